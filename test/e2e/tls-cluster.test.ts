// TLS and mutual TLS on a real cluster (docs/security.md, "TLS"): three `flotilla master`
// processes and one `flotilla agent` with --tls-cert/--tls-key/--tls-ca and
// --tls-require-client-cert, certificates from a throwaway CA made for the run. The peers
// replicate over wss://, the agent registers over wss:// and runs a task launched through the
// SDK over https://, the hosted frameworks subscribe over https:// and followers forward their
// APIs to the leader over https://, the CLI lists the agent over https://. A client without the CA is refused;
// a peer whose certificate names another master is refused at the Raft handshake; SIGHUP swaps
// a master's certificate (the served fingerprint changes, the cluster keeps working) and bad
// files on SIGHUP are refused with an error line, the old certificate kept.
// flotilla-test-timeout-seconds: 600
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { masterConfig } from '../../src/master/config.ts';
import { SchedulerClient } from '../../src/frameworks/sdk/client.ts';
import { parseMasterList } from '../../src/frameworks/sdk/masters.ts';
import { matchOffer } from '../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../src/frameworks/sdk/task-info.ts';
import type { TaskStatus } from '../../src/protocol/mesos.ts';
import { type ClientTls, fetchWithTls } from '../../src/protocol/tls-client.ts';
import { developmentSecret, secretHeader } from '../../src/util/shared-secret.ts';
import { OptionError } from '../../src/util/options.ts';
import { AgentProcess } from '../agent/support/daemon-support.ts';
import { flotilla } from '../cli/support/cli-process.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { opensslUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { type IssuedCertificate, ThrowawayCa } from '../support/throwaway-ca.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const flotillaBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'flotilla.js');
const whyNot = opensslUnavailableReason();
const startTimeoutMs = 240_000;

interface MasterProcess {
  readonly id: string;
  readonly address: string;
  /** The paths the master's --tls-cert and --tls-key name (a test replaces their contents). */
  readonly files: IssuedCertificate;
  child: ChildProcess | null;
  output: string;
}

let ca: ThrowawayCa;
let masters: MasterProcess[] = [];
let agent: AgentProcess | null = null;
let clientTls: ClientTls;
/** The paths the agent's --tls-cert and --tls-key name. */
let agentFiles: IssuedCertificate;

function tlsFlags(files: IssuedCertificate): string[] {
  return ['--tls-cert', files.certFile, '--tls-key', files.keyFile, '--tls-ca', ca.caFile, '--tls-require-client-cert'];
}

function launchMaster(master: MasterProcess, peers: string, dataRoot: string): void {
  const [host, port] = master.address.split(':');
  const child = spawn(
    process.execPath,
    [
      flotillaBin,
      'master',
      // Hosted: the frameworks reach their master over https, followers forward to the leader over https.
      '--services',
      'hosted',
      '--jobs',
      'hosted',
      '--id',
      master.id,
      '--listen',
      `${host}:${port}`,
      '--peers',
      peers,
      '--data-dir',
      path.join(dataRoot, master.id),
      ...tlsFlags(master.files),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLOTILLA_LOG_LEVEL: 'info' } },
  );
  master.child = child;
  const keep = (chunk: Buffer): void => {
    master.output = (master.output + chunk.toString('utf8')).slice(-300_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
}

async function health(address: string): Promise<Record<string, unknown> | null> {
  try {
    const response = await fetchWithTls(clientTls, `https://${address}/health`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function operator(address: string, call: object): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetchWithTls(clientTls, `https://${address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(call),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function leaderAddress(): Promise<string> {
  return waitFor(
    async () => {
      for (const master of masters) {
        const answer = await health(master.address);
        if (answer?.role === 'leader') return master.address;
      }
      return null;
    },
    { timeoutMs: startTimeoutMs, what: 'a leader over https', intervalMs: 200 },
  );
}

async function registeredAgents(): Promise<number> {
  const answer = await operator(await leaderAddress(), { type: 'GET_AGENTS' });
  return ((answer.body.get_agents as { agents?: unknown[] } | undefined)?.agents ?? []).length;
}

/** The SHA-256 fingerprint of the certificate `address` serves now (a fresh connection). */
function servedFingerprint(address: string): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port: Number(port), ca: ca.pem }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

function allOutput(): string {
  return [...masters.map((master) => master.output), agent?.output ?? ''].join('\n');
}

test.before(async () => {
  if (whyNot !== undefined) return;
  ca = ThrowawayCa.create();
  clientTls = { ca: ca.pem };
  const dataRoot = makeTempDir('tls-masters-');
  const certificates = makeTempDir('tls-installed-');
  masters = [];
  for (const id of ['m1', 'm2', 'm3']) {
    const files = {
      certFile: path.join(certificates, `${id}.pem`),
      keyFile: path.join(certificates, `${id}.key`),
    };
    ThrowawayCa.install(ca.issue(id, [id, 'localhost']), files);
    masters.push({ id, address: `127.0.0.1:${await freePort()}`, files, child: null, output: '' });
  }
  const peers = masters.map((master) => `${master.id}=${master.address}`).join(',');
  for (const master of masters) launchMaster(master, peers, dataRoot);
  await leaderAddress();
  await waitFor(async () => (await Promise.all(masters.map((master) => health(master.address)))).every(Boolean), {
    timeoutMs: startTimeoutMs,
    what: 'every master to answer over https',
  });
  // Mutual TLS: the agent's certificate names its --hostname, which it registers under.
  const hostname = `tls-agent-${process.pid}`;
  agentFiles = { certFile: path.join(certificates, 'agent.pem'), keyFile: path.join(certificates, 'agent.key') };
  ThrowawayCa.install(ca.issue(hostname), agentFiles);
  const masterList = masters.map((master) => master.address).join(',');
  agent = new AgentProcess(hostname, masterList, makeTempDir('tls-agent-'), await freePort(), [
    '--tls-cert',
    agentFiles.certFile,
    '--tls-key',
    agentFiles.keyFile,
    '--tls-ca',
    ca.caFile,
  ]);
  agent.launch();
});

test.after(async () => {
  await agent?.stop();
  for (const master of masters) master.child?.kill('SIGKILL');
});

testUnless(test, whyNot, 'a half-set flag trio is refused with a message naming what is missing', () => {
  const base = { id: 'm1', listen: { host: '127.0.0.1', port: 5050 }, peers: { m1: '127.0.0.1:5050' } };
  assert.throws(
    () => masterConfig({ ...base, dataDir: makeTempDir('tls-config-'), tlsCert: '/nowhere/cert.pem' }),
    (thrown: unknown) =>
      thrown instanceof OptionError && /--tls-key and --tls-ca are missing/.test((thrown as Error).message),
  );
  assert.throws(
    () => masterConfig({ ...base, dataDir: makeTempDir('tls-config-'), tlsRequireClientCert: true }),
    (thrown: unknown) => thrown instanceof OptionError && /needs --tls-cert/.test((thrown as Error).message),
  );
});

testUnless(test, whyNot, 'the masters replicate over wss:// and the agent registers over wss://', async () => {
  await waitFor(async () => (await registeredAgents()) === 1, {
    timeoutMs: startTimeoutMs,
    what: `the agent to register over wss (output: ${agent?.output.slice(-2000)})`,
  });
  const statuses = await Promise.all(masters.map((master) => health(master.address)));
  const leaders = new Set(statuses.map((status) => status?.leader));
  assert.is(leaders.size, 1, `every master follows one leader: ${JSON.stringify(statuses)}`);
  const log = masters[0]!.output;
  assert.match(log, /"tls":"mutual"/);
});

testUnless(
  test,
  whyNot,
  'the SDK with the CA launches a task over https; the master reads its sandbox over https',
  async () => {
    const client = new SchedulerClient({
      masters: parseMasterList(masters.map((master) => master.address).join(',')),
      framework: {
        user: os.userInfo().username,
        name: 'tls-sdk',
        roles: ['*'],
        capabilities: [{ type: 'MULTI_ROLE' }],
      },
      tls: clientTls,
    });
    const statuses: TaskStatus[] = [];
    let launchedOnce = false;
    client.on('UPDATE', (event) => statuses.push(event.update.status));
    client.on('OFFERS', (event) => {
      for (const offer of event.offers.offers) {
        const match = launchedOnce ? null : matchOffer(offer, { cpus: 0.1, memMb: 32 });
        if (match === null) {
          void client.decline([offer.id]).catch(() => undefined);
          continue;
        }
        launchedOnce = true;
        const task = buildTaskInfo(offer, match, {
          name: 'tls-sdk',
          taskId: 'tls-task',
          command: { kind: 'shell', line: 'echo hello-over-tls' },
        });
        void client.launch(offer, [task]).catch(() => undefined);
      }
    });
    let frameworkId: string;
    try {
      frameworkId = await client.subscribe();
      await waitFor(() => statuses.some((status) => status.state === 'TASK_FINISHED'), {
        timeoutMs: 90_000,
        what: `TASK_FINISHED (seen: ${statuses.map((status) => status.state).join(', ')})`,
      });
    } finally {
      client.close();
    }
    // The master reads the sandbox from the agent over https (the agent's certificate, our CA).
    const query = new URLSearchParams({ framework_id: frameworkId, task_id: 'tls-task', file: 'stdout', offset: '0' });
    const response = await fetchWithTls(clientTls, `https://${await leaderAddress()}/api/v1/sandbox/read?${query}`, {
      signal: AbortSignal.timeout(20_000),
    });
    const body = (await response.json()) as { data?: string };
    assert.is(response.status, 200, JSON.stringify(body));
    assert.match(Buffer.from(String(body.data), 'base64').toString('utf8'), /hello-over-tls/);
  },
);

testUnless(
  test,
  whyNot,
  'the hosted frameworks run over https, and a follower forwards their APIs over https',
  async () => {
    const leader = await leaderAddress();
    const follower = masters.find((master) => master.address !== leader)!;
    for (const route of ['/v2/apps', '/v1/jobs']) {
      await waitFor(
        async () => {
          const response = await fetchWithTls(clientTls, `https://${follower.address}${route}`, {
            signal: AbortSignal.timeout(10_000),
          });
          await response.text();
          return response.status === 200;
        },
        { timeoutMs: startTimeoutMs, what: `${route} through ${follower.id} to answer 200`, intervalMs: 500 },
      );
    }
    const frameworks = await operator(leader, { type: 'GET_FRAMEWORKS' });
    const names = JSON.stringify(frameworks.body);
    assert.match(names, /flotilla-services/);
    assert.match(names, /flotilla-jobs/);
  },
);

testUnless(test, whyNot, 'the CLI lists the agent over https with --tls-ca, and fails without it', async () => {
  const list = masters.map((master) => master.address).join(',');
  const listed = await flotilla(['agents', '--masters', list, '--tls-ca', ca.caFile, '--json']);
  assert.is(listed.status, 0, listed.stderr);
  assert.ok(listed.stdout.includes(agent!.hostname), listed.stdout);
  const fromEnvironment = await flotilla(['agents', '--masters', list, '--json'], { FLOTILLA_TLS_CA: ca.caFile });
  assert.is(fromEnvironment.status, 0, fromEnvironment.stderr);
  const withoutCa = await flotilla(['agents', '--masters', list, '--json', '--timeout-seconds', '5']);
  assert.is.not(withoutCa.status, 0, 'plain HTTP to a TLS master must fail');
  const systemCas = await flotilla(['agents', '--masters', `https://${masters[0]!.address}`, '--timeout-seconds', '5']);
  assert.is.not(systemCas.status, 0, 'a certificate of an unknown CA must be refused');
});

testUnless(test, whyNot, 'a client without the CA is refused; plain HTTP gets no answer', async () => {
  const address = masters[0]!.address;
  let refused: Error | null = null;
  await fetch(`https://${address}/health`).catch((error: Error) => {
    refused = error;
  });
  assert.ok(refused !== null, 'fetch without the CA must fail');
  const certificateError = String((refused as unknown as { cause?: { code?: string } }).cause?.code ?? '');
  assert.match(certificateError, /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  let plain: Error | null = null;
  await fetch(`http://${address}/health`, { signal: AbortSignal.timeout(5000) }).catch((error: Error) => {
    plain = error;
  });
  assert.ok(plain !== null, 'plain HTTP to a TLS port must fail');
});

/** Dials m2's Raft socket claiming to be m1, with `certificate`; resolves with the HTTP status of the refusal (101: accepted). */
function dialRaftAsM1(certificate: IssuedCertificate | null): Promise<number> {
  const target = masters[1]!.address;
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`wss://${target}/raft`, {
      headers: { 'x-flotilla-node': 'm1', [secretHeader]: developmentSecret },
      ca: ca.pem,
      ...(certificate === null
        ? {}
        : { cert: readFileSync(certificate.certFile), key: readFileSync(certificate.keyFile) }),
      handshakeTimeout: 10_000,
    });
    socket.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on('open', () => {
      resolve(101);
      socket.terminate();
    });
    socket.on('error', reject);
  });
}

testUnless(test, whyNot, 'mutual TLS: a peer whose certificate names another master, or none, is refused', async () => {
  const impostor = ca.issue('m9');
  assert.is(await dialRaftAsM1(impostor), 403, 'a certificate of m9 claiming m1');
  assert.is(await dialRaftAsM1(null), 403, 'no client certificate');
  await waitFor(() => /client certificate names m9, 127\.0\.0\.1, not m1/.test(masters[1]!.output), {
    timeoutMs: 10_000,
    what: "m2's log line refusing the impostor",
  });
  // The cluster is untouched: m1's own socket still works, every master follows the same leader.
  const statuses = await Promise.all(masters.map((master) => health(master.address)));
  assert.is(new Set(statuses.map((status) => status?.leader)).size, 1);
});

testUnless(test, whyNot, 'mutual TLS: an agent whose certificate names another host is refused', async () => {
  const wrong = ca.issue('some-other-host');
  const masterList = masters.map((master) => master.address).join(',');
  const impostor = new AgentProcess(
    `tls-impostor-${process.pid}`,
    masterList,
    makeTempDir('tls-impostor-'),
    await freePort(),
    ['--tls-cert', wrong.certFile, '--tls-key', wrong.keyFile, '--tls-ca', ca.caFile],
  );
  impostor.launch();
  try {
    await waitFor(
      () => /names some-other-host, 127\.0\.0\.1, not the agent's hostname tls-impostor/.test(allOutput()),
      {
        timeoutMs: startTimeoutMs,
        what: "the masters' refusal of the impostor agent",
      },
    );
    assert.is(await registeredAgents(), 1, 'only the agent whose certificate names it is registered');
  } finally {
    await impostor.stop();
  }
});

testUnless(test, whyNot, 'an agent trusting another CA refuses the masters and says so', async () => {
  const otherCa = ThrowawayCa.create('another-ca');
  const hostname = `tls-stranger-${process.pid}`;
  const files = otherCa.issue(hostname);
  const masterList = masters.map((master) => master.address).join(',');
  const stranger = new AgentProcess(hostname, masterList, makeTempDir('tls-stranger-'), await freePort(), [
    '--tls-cert',
    files.certFile,
    '--tls-key',
    files.keyFile,
    '--tls-ca',
    otherCa.caFile,
  ]);
  stranger.launch();
  try {
    await waitFor(() => /TLS handshake with the master failed/.test(stranger.output), {
      timeoutMs: startTimeoutMs,
      what: "the stranger agent's error line",
    });
    assert.is(await registeredAgents(), 1, 'the stranger is not registered');
  } finally {
    await stranger.stop();
  }
});

testUnless(test, whyNot, 'SIGHUP swaps the certificate; bad files are refused and the old one kept', async () => {
  const m1 = masters[0]!;
  const before = await servedFingerprint(m1.address);
  ThrowawayCa.install(ca.issue('m1', ['m1', 'localhost']), m1.files);
  m1.child!.kill('SIGHUP');
  const after = await waitFor(
    async () => {
      const served = await servedFingerprint(m1.address);
      return served !== before ? served : null;
    },
    { timeoutMs: 20_000, what: "m1's new certificate to be served" },
  );
  assert.is.not(after, before);
  // The log line is read from the child's output, which may trail the new certificate being served.
  await waitFor(() => /TLS certificates reloaded/.test(m1.output), { timeoutMs: 10_000, what: "m1's reload line" });
  // Connections keep working: m1 answers, it still replicates, and the agent is still registered.
  await waitFor(async () => (await health(m1.address)) !== null, { timeoutMs: 10_000, what: 'm1 over https' });
  const answer = await operator(m1.address, { type: 'GET_HEALTH' });
  assert.is(answer.status, 200);
  assert.is(await registeredAgents(), 1);
  // Bad files: refused with an error line, the certificate of the moment kept.
  writeFileSync(m1.files.certFile, 'not a certificate\n');
  m1.child!.kill('SIGHUP');
  await waitFor(() => /TLS reload refused/.test(m1.output), { timeoutMs: 10_000, what: 'the refusal line' });
  assert.is(await servedFingerprint(m1.address), after);
  assert.ok(m1.child!.exitCode === null, 'm1 still runs');
  // The agent reloads too: its API serves the new certificate, and it stays registered.
  const agentAddress = `127.0.0.1:${agent!.port}`;
  const agentBefore = await servedFingerprint(agentAddress);
  ThrowawayCa.install(ca.issue(agent!.hostname), agentFiles);
  agent!.signal('SIGHUP');
  await waitFor(async () => (await servedFingerprint(agentAddress)) !== agentBefore, {
    timeoutMs: 20_000,
    what: "the agent's new certificate to be served",
  });
  await waitFor(() => /TLS certificates reloaded/.test(agent!.output), {
    timeoutMs: 10_000,
    what: "the agent's reload line",
  });
  assert.is(await registeredAgents(), 1);
  assert.not.match(allOutput(), /BEGIN (EC )?PRIVATE KEY/);
});

test.run();
