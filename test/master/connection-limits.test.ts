// Bounded connections on a real master (docs/security.md "Limits"): agent sockets in total
// (--max-agent-connections: one more is refused 503 at the handshake, with the error body, and
// only after the cluster secret), and scheduler streams per principal
// (--max-scheduler-streams-per-principal: 429 TOO_MANY_REQUESTS for one more framework of that
// principal, while another principal subscribes and a framework failing over keeps its place).
import type { IncomingMessage } from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { agentWebSocketPath } from '../../src/protocol/agent.ts';
import { developmentSecret, secretHeader } from '../../src/util/shared-secret.ts';
import { errorOf } from '../support/answers.ts';
import { withTimeout } from '../support/wait.ts';
import { startSingleMaster } from '../support/master.ts';
import { frameworkInfo, SchedulerClient, schedulerPost } from '../http/support/scheduler-client.ts';

type Dialled = { kind: 'open'; socket: WebSocket } | { kind: 'refused'; status: number; body: string };

function dialAgentSocket(url: string, secret: string): Promise<Dialled> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = new WebSocket(`${url.replace('http', 'ws')}${agentWebSocketPath}`, {
        headers: { [secretHeader]: secret },
      });
      socket.once('open', () => resolve({ kind: 'open', socket }));
      socket.once('unexpected-response', (_request, response: IncomingMessage) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
        });
        response.on('end', () => resolve({ kind: 'refused', status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      });
      socket.once('error', reject);
    }),
    20_000,
    'the agent socket to open or be refused',
  );
}

test('agent sockets past --max-agent-connections are refused 503 with the error body; a slot frees on close', async () => {
  const cluster = await startSingleMaster({ maxAgentConnections: 2 });
  try {
    const first = await dialAgentSocket(cluster.url, developmentSecret);
    const second = await dialAgentSocket(cluster.url, developmentSecret);
    assert.ok(first.kind === 'open' && second.kind === 'open');
    const third = await dialAgentSocket(cluster.url, developmentSecret);
    assert.ok(third.kind === 'refused');
    assert.is(third.status, 503);
    assert.is(errorOf(JSON.parse(third.body)).code, 'UNAVAILABLE');
    // Without the secret the answer is 401 as always: a stranger does not learn the master is full.
    const stranger = await dialAgentSocket(cluster.url, 'not-the-secret-0123456789');
    assert.ok(stranger.kind === 'refused' && stranger.status === 401);
    first.socket.close();
    let again = await dialAgentSocket(cluster.url, developmentSecret);
    for (let attempt = 0; attempt < 100 && again.kind === 'refused'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await dialAgentSocket(cluster.url, developmentSecret);
    }
    assert.ok(again.kind === 'open', 'a closed socket gives its slot back');
    again.socket.close();
    second.socket.close();
  } finally {
    await cluster.stop();
  }
});

test('scheduler streams past --max-scheduler-streams-per-principal are answered 429 (master code TOO_MANY_STREAMS)', async () => {
  const cluster = await startSingleMaster({ maxSchedulerStreamsPerPrincipal: 1 });
  try {
    const web = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ principal: 'web' }));
    const refused = await schedulerPost(cluster.url, {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: frameworkInfo({ principal: 'web', name: 'second' }) },
    });
    assert.is(refused.status, 429, JSON.stringify(refused.body));
    assert.is(errorOf(refused.body).code, 'TOO_MANY_REQUESTS');
    assert.match(errorOf(refused.body).message, /principal web/);
    const batch = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ principal: 'batch' }));
    // The same framework subscribing again replaces its own stream: it always fits.
    const failedOver = await SchedulerClient.subscribe(
      cluster.url,
      frameworkInfo({ principal: 'web', id: { value: web.frameworkId } }),
    );
    assert.is(failedOver.frameworkId, web.frameworkId);
    for (const client of [web, batch, failedOver]) client.close();
  } finally {
    await cluster.stop();
  }
});

test.run();
