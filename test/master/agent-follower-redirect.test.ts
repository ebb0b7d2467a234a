// A follower's answer to an agent's handshake (agent-gateway.ts #redirectToLeader), on three real
// masters in this process: an agent that asks for it (agentRedirectHeader) gets a plain HTTP 307
// naming the leader, before any WebSocket work; one that does not still gets a socket carrying
// `not_leader`. The real agent's link (master-link.ts), given only the follower, follows the 307
// to the leader and registers there, and the follower upgraded none of its sockets.
import type { IncomingMessage } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { leaderOfRedirect, MasterLink } from '../../src/agent/master-link.ts';
import { masterConfig } from '../../src/master/config.ts';
import { Master } from '../../src/master/daemon.ts';
import {
  agentRedirectHeader,
  agentWebSocketPath,
  encodeMessage,
  parseMasterMessage,
} from '../../src/protocol/agent.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { developmentSecret, secretHeader } from '../../src/util/shared-secret.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor, withTimeout } from '../support/wait.ts';

const redirect = suite('agent handshake on a follower');

async function startThreeMasters(): Promise<Master[]> {
  const ids = ['m1', 'm2', 'm3'];
  const ports = [await freePort(), await freePort(), await freePort()];
  const peers = Object.fromEntries(ids.map((id, index) => [id, `127.0.0.1:${ports[index]}`]));
  return Promise.all(
    ids.map((id, index) =>
      Master.start(
        masterConfig({
          id,
          listen: { host: '127.0.0.1', port: ports[index]! },
          peers,
          dataDir: makeTempDir(`redirect-${id}-`),
          tickMs: 20,
          services: 'off',
          jobs: 'off',
        }),
        { logger: silentLogger },
      ),
    ),
  );
}

/** The leader, with its leader services running, and a follower that knows it. */
async function leaderAndFollower(masters: readonly Master[]): Promise<{ leader: Master; follower: Master }> {
  return waitFor(
    () => {
      const leader = masters.find((master) => master.leadership.view().state === 'leading');
      if (leader === undefined) return null;
      const follower = masters.find((master) => {
        const view = master.facade.raft();
        return master !== leader && view.role === 'follower' && view.leaderAddress === leader.facade.address;
      });
      return follower === undefined ? null : { leader, follower };
    },
    { timeoutMs: 60_000, what: 'a leader with its services running and a follower that knows it' },
  );
}

type Answer = { kind: 'refused'; status: number; location: string | undefined } | { kind: 'message'; body: string };

/** Dials `address`'s agent path and sends a register if the socket opens: the HTTP refusal or the first message. */
function dial(address: string, followsRedirects: boolean): Promise<Answer> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { [secretHeader]: developmentSecret };
      if (followsRedirects) headers[agentRedirectHeader] = '1';
      const socket = new WebSocket(`ws://${address}${agentWebSocketPath}`, { headers });
      socket.once('unexpected-response', (_request, response: IncomingMessage) => {
        resolve({ kind: 'refused', status: response.statusCode ?? 0, location: response.headers.location });
        socket.terminate();
      });
      socket.once('open', () => socket.send(encodeMessage(registerBody('direct-dial'))));
      socket.once('message', (data) => {
        resolve({ kind: 'message', body: data.toString() });
        socket.close();
      });
      socket.on('error', (error) => reject(error));
    }),
    20_000,
    `${address} to refuse the agent socket or answer its register`,
  );
}

function registerBody(hostname: string) {
  return {
    type: 'register' as const,
    agentId: null,
    info: {
      hostname,
      address: { ip: '127.0.0.1', port: 1 },
      zone: null,
      resources: [{ name: 'cpus', role: '*', type: 'SCALAR' as const, scalar: 1 }],
      attributes: {},
    },
    tasks: [],
    executors: [],
  };
}

redirect(
  'a follower answers 307 naming the leader to an agent that asks, not_leader to one that does not',
  async () => {
    const masters = await startThreeMasters();
    try {
      const { leader, follower } = await leaderAndFollower(masters);
      const redirected = await dial(follower.facade.address, true);
      assert.ok(redirected.kind === 'refused', JSON.stringify(redirected));
      assert.is(redirected.status, 307);
      assert.is(redirected.location, `ws://${leader.facade.address}${agentWebSocketPath}`);
      assert.is(leaderOfRedirect(redirected.location), leader.facade.address);
      assert.is(follower.agents.upgradesRedirected, 1);
      // An agent of before (no header) keeps the protocol it knows.
      const told = await dial(follower.facade.address, false);
      assert.ok(told.kind === 'message', JSON.stringify(told));
      const parsed = parseMasterMessage(told.body);
      assert.ok(parsed.ok && parsed.message.type === 'not_leader', told.body);
      assert.is(
        parsed.ok && parsed.message.type === 'not_leader' ? parsed.message.leader : null,
        leader.facade.address,
      );
      assert.is(follower.agents.upgradesRedirected, 1);
      // The leader itself takes the socket, header or not.
      const registered = await dial(leader.facade.address, true);
      assert.ok(registered.kind === 'message', JSON.stringify(registered));
      assert.is(leader.agents.upgradesRedirected, 0);
    } finally {
      await Promise.all(masters.map((master) => master.stop()));
    }
  },
);

redirect("the agent's link, given only a follower, follows its 307 and registers with the leader", async () => {
  const masters = await startThreeMasters();
  let link: MasterLink | null = null;
  try {
    const { leader, follower } = await leaderAndFollower(masters);
    let registeredWith: string | null = null;
    link = new MasterLink({
      masters: [follower.facade.address],
      zone: null,
      secret: developmentSecret,
      logger: silentLogger,
      registration: () => registerBody('link-agent'),
      onRegistered: (message) => {
        registeredWith = message.master.address;
      },
      onMessage: () => undefined,
      onDisconnected: () => undefined,
      onFatal: (code, message) => assert.unreachable(`${code}: ${message}`),
    });
    link.start();
    await waitFor(() => registeredWith, { timeoutMs: 60_000, what: 'the link to register' });
    assert.is(registeredWith, leader.facade.address);
    assert.is(link.leader(), leader.facade.address);
    assert.ok(follower.agents.upgradesRedirected >= 1, 'the follower answered the link with a 307');
  } finally {
    link?.stop();
    await Promise.all(masters.map((master) => master.stop()));
  }
});

redirect.run();
