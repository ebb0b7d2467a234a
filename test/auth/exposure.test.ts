// Which listen addresses count as loopback, what an exposed daemon must be given, and the
// warning an insecure one repeats (here every 30 ms instead of every minute).
import { Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exposureRefusal, isLoopbackHost, warnWhileInsecure } from '../../src/auth/exposure.ts';
import { createLogger } from '../../src/util/logger.ts';
import { waitFor } from '../support/wait.ts';

test('loopback hosts', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]']) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (const host of ['0.0.0.0', '10.0.0.1', '128.0.0.1', '127.0.0.256', '127.0.0', 'example.com', 'localhost.evil']) {
    assert.not.ok(isLoopbackHost(host), host);
  }
});

test('an exposed daemon needs credentials and a cluster secret, or the insecure switch', () => {
  const base = { hasCredentials: false, hasClusterSecret: false, insecureAllowAnonymous: false };
  assert.is(exposureRefusal({ ...base, host: '127.0.0.1' }), null);
  const refusal = exposureRefusal({ ...base, host: '0.0.0.0' }) ?? '';
  assert.match(refusal, '--credentials FILE and --cluster-secret-file FILE');
  assert.match(refusal, '--insecure-allow-anonymous');
  assert.match(exposureRefusal({ ...base, host: '10.1.1.1', hasClusterSecret: true }) ?? '', '--credentials FILE,');
  assert.is(exposureRefusal({ ...base, host: '10.1.1.1', hasCredentials: true, hasClusterSecret: true }), null);
  assert.is(exposureRefusal({ ...base, host: '10.1.1.1', insecureAllowAnonymous: true }), null);
});

test('the insecure warning comes at once and again every interval, until stopped', async () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger({ node: 'm1', component: 'master' }, destination);
  const exposure = { host: '0.0.0.0', hasCredentials: false, hasClusterSecret: true, insecureAllowAnonymous: true };
  const stop = warnWhileInsecure(exposure, logger, 30);
  assert.is(lines.length, 1, 'one warning at start');
  await waitFor(() => lines.length >= 3, { timeoutMs: 10_000, what: 'two more warnings' });
  stop();
  const count = lines.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.is(lines.length, count, 'no warning after stop');
  const warning = JSON.parse(lines[0]!) as { level: string; insecure: boolean; missing: string[]; msg: string };
  assert.is(warning.level, 'warn');
  assert.ok(warning.insecure);
  assert.equal(warning.missing, ['--credentials FILE']);
  const before = lines.length;
  const stopQuiet = warnWhileInsecure({ ...exposure, host: '127.0.0.1' }, logger, 30);
  await new Promise((resolve) => setTimeout(resolve, 100));
  stopQuiet();
  assert.is(lines.length, before, 'a loopback daemon is not warned about');
});

test.run();
