// deploy/docker as an operator uses it, with the real Docker engine: deploy/docker/build-image.sh
// builds the image with no registry (FROM scratch, this machine's node, the app), its entry point
// answers `version`, and docker-compose brings up deploy/docker/docker-compose.yml — three
// masters and two agents on a private network — in which the masters elect a leader and both
// agents register; stopping the leader's container (SIGTERM) hands leadership to another master
// and the agents follow it. The daemons listen on the network, so the compose file gives them
// credentials: the operator calls here present them (HTTP Basic), and a call without is refused. Skipped without an engine (DOCKER_HOST), docker-compose or busybox.
// flotilla-test-timeout-seconds: 600
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { basicAuthorization } from '../../src/protocol/http-authorization.ts';
import { repoRoot } from '../cli/support/cli-process.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const composeFile = path.join(repoRoot, 'deploy', 'docker', 'docker-compose.yml');
const commandTimeoutMs = 300_000;
const requestTimeoutMs = 5_000;
/** The operator principal of the credentials file the test gives the compose file. */
const operator = { principal: 'ops', secret: 'an-operator-secret-of-32-characters' };
const frameworks = { principal: 'flotilla-frameworks', secret: 'a-frameworks-secret-of-32-characters' };
const operatorAuthorization = basicAuthorization(operator.principal, operator.secret);

async function unavailableReason(): Promise<string | undefined> {
  const docker = await dockerUnavailableReason();
  if (docker !== undefined) return docker;
  if (spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status !== 0)
    return 'docker-compose is not installed (apt-get install docker-compose)';
  if (!existsSync('/bin/busybox')) return 'no /bin/busybox (apt-get install busybox-static)';
  return undefined;
}

/** Runs a command to its end without blocking the event loop; its output is in the failure message. */
function run(command: string, args: readonly string[], environment: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), commandTimeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited ${status}:\n${output.slice(-4000)}`));
    });
  });
}

interface Health {
  readonly id: string;
  readonly role: string;
  readonly leader: string | null;
}

/**
 * A JSON request through node:http, not fetch: the engine's port proxy accepts a connection
 * before the master behind it listens and then holds it, and a fetch waiting on such a socket
 * (with AbortSignal.timeout's unreferenced timer) kept nothing alive — the test process exited.
 */
function requestJson(
  port: number,
  method: string,
  pathName: string,
  body: object | undefined,
  authorization: string | undefined,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (authorization !== undefined) headers.authorization = authorization;
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path: pathName, headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => {
        try {
          resolve({ status: response.statusCode ?? 0, body: response.statusCode === 200 ? JSON.parse(text) : null });
        } catch (error) {
          reject(error);
        }
      });
    });
    request.setTimeout(requestTimeoutMs, () => request.destroy(new Error(`no answer in ${requestTimeoutMs} ms`)));
    request.on('error', reject);
    request.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** /health is public: asked without credentials. */
async function health(port: number): Promise<Health | null> {
  const answer = await requestJson(port, 'GET', '/health', undefined, undefined).catch(() => null);
  return (answer?.body ?? null) as Health | null;
}

function getAgents(port: number, authorization: string | undefined): Promise<{ status: number; body: unknown }> {
  return requestJson(port, 'POST', '/api/v1', { type: 'GET_AGENTS' }, authorization);
}

async function activeAgents(port: number): Promise<string[]> {
  const answer = await getAgents(port, operatorAuthorization).catch(() => null);
  const body = answer?.body as {
    get_agents?: { agents: { active: boolean; agent_info: { hostname: string } }[] };
  } | null;
  return (body?.get_agents?.agents ?? [])
    .filter((agent) => agent.active)
    .map((agent) => agent.agent_info.hostname)
    .sort();
}

testUnless(
  test,
  await unavailableReason(),
  'the image builds offline; docker-compose runs three masters and two agents that survive a leader stop',
  async () => {
    const image = `flotilla-deploy-test:${process.pid}`;
    const project = `flotilla-deploy-${process.pid}`;
    // A private /24 per run, so that parallel runs on one engine do not share addresses.
    const subnet = `10.${100 + (process.pid % 100)}.${process.pid % 250}`;
    console.log(`image ${image}, project ${project}, subnet ${subnet}.0/24`);
    const secret = path.join(makeTempDir('deploy-docker-'), 'cluster-secret');
    writeFileSync(secret, 'a-secret-of-thirty-two-characters', { mode: 0o644 });
    // Readable by the masters' uid 999 in their containers, as the cluster secret.
    const credentials = path.join(path.dirname(secret), 'credentials.json');
    writeFileSync(credentials, JSON.stringify({ credentials: [operator, frameworks] }), { mode: 0o644 });
    const ports = { m1: await freePort(), m2: await freePort(), m3: await freePort() };
    const environment: NodeJS.ProcessEnv = {
      ...process.env,
      FLOTILLA_IMAGE: image,
      FLOTILLA_CLUSTER_SECRET_FILE: secret,
      FLOTILLA_CREDENTIALS_FILE: credentials,
      FLOTILLA_M1_PORT: String(ports.m1),
      FLOTILLA_M2_PORT: String(ports.m2),
      FLOTILLA_M3_PORT: String(ports.m3),
      FLOTILLA_SUBNET: subnet,
    };
    const compose = (...args: string[]): Promise<string> =>
      run('docker-compose', ['-p', project, '-f', composeFile, ...args], environment);

    await run('bash', [path.join(repoRoot, 'deploy', 'docker', 'build-image.sh'), image], environment);
    try {
      assert.match(
        await run('docker', ['run', '--rm', '--network', 'none', image, 'version'], environment),
        /^flotilla /,
      );
      await compose('up', '-d');
      const leaderId = await waitFor(
        async () => {
          const views = await Promise.all(Object.values(ports).map(health));
          const leaders = new Set(views.map((view) => view?.leader ?? null));
          const leader = views.find((view) => view?.role === 'leader');
          return leaders.size === 1 && leader !== undefined && (await activeAgents(ports.m1)).length === 2
            ? leader!.id
            : null;
        },
        { timeoutMs: 240_000, what: 'a leader every master names, and two active agents', intervalMs: 1_000 },
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}\n${(await compose('logs', '--tail', '20').catch(String)).slice(-6000)}`);
      });
      assert.equal(await activeAgents(ports.m1), ['agent1', 'agent2']);
      assert.is((await getAgents(ports.m1, undefined)).status, 401, 'an operator call without credentials');
      const wrong = basicAuthorization(operator.principal, 'not-the-operator-secret-at-all');
      assert.is((await getAgents(ports.m1, wrong)).status, 401, 'an operator call with a wrong secret');

      // `docker-compose stop` is SIGTERM: the leader hands over, and the agents follow.
      await compose('stop', '--timeout', '30', leaderId);
      const others = Object.entries(ports).filter(([id]) => id !== leaderId);
      await waitFor(
        async () => {
          const views = await Promise.all(others.map(([, port]) => health(port)));
          return views.some((view) => view?.role === 'leader') && (await activeAgents(others[0]![1])).length === 2;
        },
        { timeoutMs: 120_000, what: `a new leader without ${leaderId}, and both agents on it`, intervalMs: 1_000 },
      );
    } finally {
      await compose('down', '--volumes', '--timeout', '5').catch((error: Error) => console.log(error.message));
      await run('docker', ['rmi', '--force', image], environment).catch((error: Error) => console.log(error.message));
    }
  },
);

test.run();
