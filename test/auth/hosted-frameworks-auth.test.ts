// The hosted frameworks on masters with --credentials: they authenticate to their own master as
// --frameworks-principal (its secret from the credentials file), their Marathon and Metronome
// APIs on the master's port take the same authentication as every other route, and a master
// with --credentials but no principal for them refuses to start, naming the flag.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { basicAuthorization } from '../../src/protocol/http-authorization.ts';
import { masterConfig } from '../../src/master/config.ts';
import { OptionError } from '../../src/util/options.ts';
import { ProcessCluster } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const directory = makeTempDir('hosted-auth-');
const credentialsFile = path.join(directory, 'credentials.json');
const secrets = { hosted: 'hosted-frameworks-secret-5b1e', ops: 'operator-secret-9c2d7f0a' };
writeFileSync(
  credentialsFile,
  JSON.stringify({ credentials: Object.entries(secrets).map(([principal, secret]) => ({ principal, secret })) }),
);
const ops = { authorization: basicAuthorization('ops', secrets.ops) };

let cluster: ProcessCluster;

test.before(async () => {
  cluster = await ProcessCluster.start(
    makeTempDir('hosted-auth-masters-'),
    1,
    ['--credentials', credentialsFile, '--services', 'hosted', '--jobs', 'hosted', '--frameworks-principal', 'hosted'],
    'master',
  );
});

test.after(async () => {
  await cluster?.stop();
});

interface FrameworkEntry {
  readonly framework_info: { readonly name: string; readonly principal?: string };
  readonly active: boolean;
}

test('both hosted frameworks subscribe as --frameworks-principal, and their APIs need credentials', async () => {
  const leader = (await cluster.waitForLeader()).address;
  const subscribed = await waitFor(
    async () => {
      const response = await fetch(`http://${leader}/api/v1`, {
        method: 'POST',
        headers: { ...ops, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ type: 'GET_FRAMEWORKS' }),
      });
      if (response.status !== 200) return null;
      const body = (await response.json()) as { get_frameworks: { frameworks?: FrameworkEntry[] } };
      const active = (body.get_frameworks.frameworks ?? []).filter((entry) => entry.active);
      const names = active.map((entry) => entry.framework_info.name);
      return names.includes('flotilla-services') && names.includes('flotilla-jobs') ? active : null;
    },
    { timeoutMs: 90_000, what: 'flotilla-services and flotilla-jobs to subscribe with credentials' },
  );
  for (const entry of subscribed) assert.is(entry.framework_info.principal, 'hosted', entry.framework_info.name);
  for (const route of ['/v2/apps', '/v1/jobs']) {
    assert.is((await fetch(`http://${leader}${route}`)).status, 401, `${route} without credentials`);
    const allowed = await waitFor(
      async () => {
        const response = await fetch(`http://${leader}${route}`, { headers: ops });
        return response.status === 200 ? response : null;
      },
      { timeoutMs: 30_000, what: `${route} with credentials` },
    );
    assert.is(allowed.status, 200, route);
  }
});

test('--credentials with a hosted framework needs --frameworks-principal, from the credentials file', () => {
  const listen = { host: '127.0.0.1', port: 5050 };
  const base = { id: 'm1', listen, peers: { m1: '127.0.0.1:5050' }, dataDir: directory, credentials: credentialsFile };
  const refusal = (given: Parameters<typeof masterConfig>[0]): string => {
    try {
      masterConfig(given);
    } catch (error) {
      assert.instance(error, OptionError);
      return (error as Error).message;
    }
    throw new Error('the options were accepted');
  };
  assert.match(refusal(base), /--frameworks-principal/);
  assert.match(refusal({ ...base, frameworksPrincipal: 'nobody' }), /nobody is not in the --credentials file/);
  assert.is(masterConfig({ ...base, frameworksPrincipal: 'hosted' }).frameworksCredential?.principal, 'hosted');
  assert.is(masterConfig({ ...base, services: 'off', jobs: 'off' }).frameworksCredential, null);
  assert.match(refusal({ ...base, credentials: null, frameworksPrincipal: 'hosted' }), /needs --credentials/);
});

test.run();
