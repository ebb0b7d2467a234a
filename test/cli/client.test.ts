// The CLI's HTTP client on the wire, against loopback servers that answer as masters do in the
// moments a real cluster cannot be made to hold still for (no leader yet, a commit that timed
// out): every write carries an Idempotency-Key, fresh per call and the same on each retry of
// it; reads carry none; a 307 is followed to the leader; a master that refuses connections is
// skipped; the retries are bounded.
import { maxAttempts } from '../../src/cli/limits.ts';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterClient } from '../../src/cli/client/cluster-client.ts';
import { CliError } from '../../src/cli/client/errors.ts';
import { kvPut } from '../../src/cli/client/kv.ts';
import { operatorCall } from '../../src/cli/client/operator.ts';
import { type MasterAddress, parseMasterAddress } from '../../src/frameworks/sdk/masters.ts';
import { freePort } from '../raft/support/process-cluster.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly key: string | undefined;
}

type Answer = (seen: Seen, count: number) => { status: number; body?: string; headers?: Record<string, string> };

interface RecordingServer {
  readonly address: MasterAddress;
  readonly seen: Seen[];
  close(): Promise<void>;
}

async function recordingServer(answer: Answer): Promise<RecordingServer> {
  const seen: Seen[] = [];
  const server = http.createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const header = request.headers['idempotency-key'];
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        key: Array.isArray(header) ? header[0] : header,
      };
      seen.push(entry);
      const { status, body, headers } = answer(entry, seen.length);
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: parseMasterAddress(`127.0.0.1:${port}`),
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const noLeader = JSON.stringify({ error: { code: 'NO_LEADER', message: 'no leader is known; retry shortly' } });
const client = (...masters: MasterAddress[]): ClusterClient => new ClusterClient({ masters, random: () => 0 });

test('a write retries 503 and 504 with the same Idempotency-Key; the next write gets a fresh one', async () => {
  const server = await recordingServer((_seen, count) =>
    count === 1
      ? { status: 503, body: noLeader }
      : count === 2
        ? { status: 504, body: '{}' }
        : { status: 200, body: '{"key":"k","version":7}' },
  );
  try {
    const written = await kvPut(client(server.address), 'ns', 'k', 'v', null);
    assert.is(written.version, 7);
    assert.is(server.seen.length, 3);
    const keys = server.seen.map((entry) => entry.key);
    assert.ok(keys[0] !== undefined && /^[0-9a-f-]{36}$/.test(keys[0]), `a UUID key, got ${keys[0]}`);
    assert.equal(keys, [keys[0], keys[0], keys[0]], 'one logical write, one key');
    await kvPut(client(server.address), 'ns', 'k', 'w', null);
    assert.is.not(server.seen[3]!.key, keys[0], 'a new write, a new key');
  } finally {
    await server.close();
  }
});

test('reads carry no Idempotency-Key; writes of the operator API do', async () => {
  const server = await recordingServer(() => ({ status: 200, body: '{"type":"GET_WEIGHTS","get_weights":{}}' }));
  try {
    await operatorCall(client(server.address), { type: 'GET_WEIGHTS' });
    await operatorCall(client(server.address), { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [] } });
    assert.is(server.seen[0]!.key, undefined);
    assert.ok(server.seen[1]!.key !== undefined);
  } finally {
    await server.close();
  }
});

test('a 307 is followed to the leader with the same key; a refusing master is skipped', async () => {
  const leader = await recordingServer(() => ({ status: 200, body: '{"key":"k","version":1}' }));
  const follower = await recordingServer(() => ({
    status: 307,
    headers: { location: `//${leader.address}/api/v1/kv/ns/k` },
    body: '{"error":{"code":"NOT_LEADER","message":"not the leader"}}',
  }));
  const dead = parseMasterAddress(`127.0.0.1:${await freePort()}`);
  try {
    const cluster = client(dead, follower.address);
    await kvPut(cluster, 'ns', 'k', 'v', null);
    assert.is(follower.seen.length, 1);
    assert.is(leader.seen.length, 1);
    assert.is(leader.seen[0]!.key, follower.seen[0]!.key);
    assert.is(cluster.lastAnswered, leader.address, 'the leader is asked first next time');
  } finally {
    await leader.close();
    await follower.close();
  }
});

test('no leader for the whole retry budget: NO_LEADER after a bounded number of tries', async () => {
  const server = await recordingServer(() => ({ status: 503, body: noLeader }));
  try {
    const failure = await kvPut(client(server.address), 'ns', 'k', 'v', null).then(
      () => null,
      (error: unknown) => error,
    );
    assert.instance(failure, CliError);
    assert.is((failure as CliError).code, 'NO_LEADER');
    assert.is((failure as CliError).exitStatus, 3);
    assert.is(server.seen.length, maxAttempts);
  } finally {
    await server.close();
  }
});

test('no master accepts a connection: NO_MASTER naming every address, after two rounds', async () => {
  const addresses = [
    parseMasterAddress(`127.0.0.1:${await freePort()}`),
    parseMasterAddress(`127.0.0.1:${await freePort()}`),
  ];
  const failure = await operatorCall(client(...addresses), { type: 'GET_STATE' }).then(
    () => null,
    (error: unknown) => error,
  );
  assert.instance(failure, CliError);
  assert.is((failure as CliError).code, 'NO_MASTER');
  for (const address of addresses) assert.match((failure as CliError).message, address);
  assert.match((failure as CliError).hint ?? '', /npm start/);
});

test('a 4xx is final: no retry, the server code and message in the error', async () => {
  const server = await recordingServer(() => ({
    status: 409,
    body: '{"error":{"code":"MEMBERSHIP_CHANGE_PENDING","message":"a change is in flight"}}',
  }));
  try {
    const failure = (await operatorCall(client(server.address), {
      type: 'REMOVE_MASTER',
      remove_master: { id: 'm3' },
    }).then(
      () => null,
      (error: unknown) => error,
    )) as CliError;
    assert.is(failure.code, 'REFUSED');
    assert.is(failure.serverCode, 'MEMBERSHIP_CHANGE_PENDING');
    assert.match(failure.message, /REMOVE_MASTER: a change is in flight \(409 MEMBERSHIP_CHANGE_PENDING\)/);
    assert.match(failure.hint ?? '', /one membership change at a time/);
    assert.is(server.seen.length, 1);
  } finally {
    await server.close();
  }
});

test.run();
