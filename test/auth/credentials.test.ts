// The credentials file and the credential store: Mesos' JSON format, every malformed file
// refused with a line that names the file and never a secret, and a store that compares
// secrets only as equal-length digests through crypto.timingSafeEqual, with no early exit.
import { timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AuthFileError } from '../../src/auth/auth-file.ts';
import { CredentialStore, type DigestComparator, digestBytes } from '../../src/auth/credential-store.ts';
import { parseCredentials, readCredentialsFile } from '../../src/auth/credentials.ts';
import { makeTempDir } from '../support/tmp.ts';

const opsSecret = 'ops-secret-0123456789';
const webSecret = 'web-secret-0123456789';
const jobsSecret = 'jobs-secret-0123456789';
const credentials = [
  { principal: 'ops', secret: opsSecret },
  { principal: 'web', secret: webSecret },
  { principal: 'jobs', secret: jobsSecret },
];

function refusal(json: unknown): string {
  try {
    parseCredentials(json, 'creds.json');
  } catch (error) {
    assert.instance(error, AuthFileError);
    return (error as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(json)}`);
}

test('Mesos format is read', () => {
  assert.equal(parseCredentials({ credentials }, 'creds.json'), credentials);
  const folder = makeTempDir('credentials-');
  const file = path.join(folder, 'credentials.json');
  writeFileSync(file, JSON.stringify({ credentials }));
  assert.equal(readCredentialsFile(file), credentials);
});

test('malformed files are refused, naming the file and the place, never the secret', () => {
  const cases: [unknown, string][] = [
    [[], 'must be an object'],
    [{}, '"credentials" must be a list'],
    [{ credentials: [] }, '"credentials" must be a list'],
    [{ credentials, extra: 1 }, 'unknown members extra'],
    [{ credentials: [{ principal: 'a:b', secret: opsSecret }] }, 'credentials[0].principal'],
    [{ credentials: [{ principal: '', secret: opsSecret }] }, 'credentials[0].principal'],
    [{ credentials: [{ principal: 'x'.repeat(129), secret: opsSecret }] }, 'credentials[0].principal'],
    [{ credentials: [{ principal: 'short', secret: 'tooshort' }] }, 'credentials[0].secret (of short)'],
    [{ credentials: [{ principal: 'spaced', secret: 'with a space in it!' }] }, 'credentials[0].secret'],
    [{ credentials: [{ principal: 'x', secret: 5 }] }, 'credentials[0].secret'],
    [{ credentials: [{ principal: 'x', secret: opsSecret, role: 'r' }] }, 'unknown members role'],
    [{ credentials: [...credentials, { principal: 'ops', secret: 'another-secret-0123456' }] }, 'ops is listed twice'],
    [{ credentials: [...credentials, { principal: 'dup', secret: opsSecret }] }, "dup's secret is another"],
  ];
  for (const [json, expected] of cases) {
    const message = refusal(json);
    assert.ok(message.startsWith('creds.json'), message);
    assert.ok(message.includes(expected), `${message} should say ${expected}`);
    for (const { secret } of credentials) assert.not.ok(message.includes(secret), `${message} quotes a secret`);
  }
});

test('unreadable and non-JSON files are refused without quoting them', () => {
  const folder = makeTempDir('credentials-');
  const missing = path.join(folder, 'missing.json');
  assert.throws(() => readCredentialsFile(missing), /cannot read the credentials file \(ENOENT\)/);
  const broken = path.join(folder, 'broken.json');
  writeFileSync(broken, `{"credentials": [{"principal": "ops", "secret": "${opsSecret}"`);
  assert.throws(
    () => readCredentialsFile(broken),
    (error: Error) => /is not JSON/.test(error.message) && !error.message.includes(opsSecret),
  );
});

test('Basic and Bearer authenticate the right principal; anything else is null', () => {
  const store = new CredentialStore(credentials);
  assert.is(store.authenticate({ scheme: 'basic', principal: 'web', secret: webSecret }), 'web');
  assert.is(store.authenticate({ scheme: 'basic', principal: 'web', secret: opsSecret }), null);
  assert.is(store.authenticate({ scheme: 'basic', principal: 'nobody', secret: webSecret }), null);
  assert.is(store.authenticate({ scheme: 'basic', principal: 'web', secret: `${webSecret}x` }), null);
  assert.is(store.authenticate({ scheme: 'basic', principal: 'web', secret: '' }), null);
  assert.is(store.authenticate({ scheme: 'bearer', token: jobsSecret }), 'jobs');
  assert.is(store.authenticate({ scheme: 'bearer', token: opsSecret }), 'ops');
  assert.is(store.authenticate({ scheme: 'bearer', token: webSecret.slice(0, -1) }), null);
});

test('secrets are compared as 32-byte digests by crypto.timingSafeEqual, the same number of times wherever they match', () => {
  const calls: [Buffer, Buffer][] = [];
  const counting: DigestComparator = (left, right) => {
    calls.push([left, right]);
    return timingSafeEqual(left, right);
  };
  const store = new CredentialStore(credentials, counting);
  const comparisons = (presented: Parameters<CredentialStore['authenticate']>[0]): number => {
    calls.length = 0;
    store.authenticate(presented);
    for (const [left, right] of calls) {
      assert.is(left.length, digestBytes);
      assert.is(right.length, digestBytes);
    }
    return calls.length;
  };
  // Bearer: every principal's digest, whether the token is the first's, the last's, or none's.
  assert.is(comparisons({ scheme: 'bearer', token: opsSecret }), credentials.length);
  assert.is(comparisons({ scheme: 'bearer', token: jobsSecret }), credentials.length);
  assert.is(comparisons({ scheme: 'bearer', token: 'x' }), credentials.length);
  assert.is(comparisons({ scheme: 'bearer', token: 'y'.repeat(1000) }), credentials.length);
  // Basic: one comparison, for a known principal and an unknown one alike (a decoy digest).
  assert.is(comparisons({ scheme: 'basic', principal: 'ops', secret: opsSecret }), 1);
  assert.is(comparisons({ scheme: 'basic', principal: 'ops', secret: 'wrong' }), 1);
  assert.is(comparisons({ scheme: 'basic', principal: 'nobody', secret: opsSecret }), 1);
  // And without a test's comparator, the store uses node's constant-time one.
  assert.is((new CredentialStore(credentials) as unknown as { compare: DigestComparator }).compare, timingSafeEqual);
});

test.run();
