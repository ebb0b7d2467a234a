// A master that stops leading closes every agent socket; the frames agents sent before they heard
// are still read from those sockets. They are dropped and counted, not answered: at 10,000 agents
// each pong of that moment was a 'bad message from an agent' warning on the loop (issue 12).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { AgentGateway } from '../../src/master/agent-gateway.ts';
import { agentWebSocketPath, encodeMessage } from '../../src/protocol/agent.ts';
import { developmentSecret, secretHeader } from '../../src/util/shared-secret.ts';
import { Harness } from '../state-machine/support/fixtures.ts';
import { waitFor, withTimeout } from '../support/wait.ts';

interface Line {
  readonly level: number;
  readonly msg: string;
}

function gatewayOn(lines: Line[]): AgentGateway {
  const harness = new Harness();
  return new AgentGateway({
    master: {
      address: '127.0.0.1:1',
      raft: () => ({ role: 'follower', leaderAddress: null }) as never,
      state: () => harness.state,
      onChange: () => () => {},
      submit: () => Promise.reject(new Error('nothing is proposed here')),
    },
    leaderServicesRunning: async () => {},
    zone: null,
    settings: { pingIntervalMs: 600_000, maxMissedPings: 3, reregistrationGraceMs: 600_000 },
    secret: developmentSecret,
    maxConnections: 10,
    executorEvents: { frameworkMessage() {}, executorGone() {} },
    logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Line) }),
  });
}

async function listen(gateway: AgentGateway): Promise<Server> {
  const server = createServer();
  server.on('upgrade', (request, socket, head) => {
    if (!gateway.handleUpgrade(request, socket, head)) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

test('the pongs an agent sent before its leader stepped down are dropped, not one warning each', async () => {
  const lines: Line[] = [];
  const gateway = gatewayOn(lines);
  const server = await listen(gateway);
  try {
    await gateway.start(1);
    const { port } = server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}${agentWebSocketPath}`, {
      headers: { [secretHeader]: developmentSecret },
    });
    const inbox: Record<string, unknown>[] = [];
    client.on('message', (data) => inbox.push(JSON.parse(data.toString()) as Record<string, unknown>));
    let closed = false;
    client.on('close', () => (closed = true));
    await withTimeout(
      new Promise((resolve, reject) => client.once('open', resolve).once('error', reject)),
      20_000,
      'the agent socket to open',
    );
    // On an open socket a pong before registration is still a protocol error, answered and logged.
    client.send(encodeMessage({ type: 'pong', nonce: 0 }));
    const answer = await waitFor(() => inbox.shift(), { timeoutMs: 10_000, what: 'the NOT_REGISTERED answer' });
    assert.is(answer.code, 'NOT_REGISTERED');
    const warnings = (): number => lines.filter((line) => line.msg === 'bad message from an agent').length;
    assert.is(warnings(), 1);
    // Written in this turn: the gateway reads them only after stop() closed the socket.
    const pongs = 50;
    for (let nonce = 1; nonce <= pongs; nonce++) client.send(encodeMessage({ type: 'pong', nonce }));
    gateway.stop();
    await waitFor(() => closed || undefined, { timeoutMs: 10_000, what: 'the socket closed' });
    // Every frame read: dropped (counted), or warned about as before the change.
    await waitFor(() => gateway.framesAfterClose + warnings() - 1 === pongs || undefined, {
      timeoutMs: 10_000,
      what: `${pongs} frames read after the close`,
    });
    assert.is(warnings(), 1, 'no warning per frame read after the step-down');
    assert.is(inbox.length, 0, 'nothing answered on the closed socket');
  } finally {
    gateway.stop();
    await gateway.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

test.run();
