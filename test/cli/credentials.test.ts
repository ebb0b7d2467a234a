// Who the CLI says it is (src/cli/client/credentials.ts): flags first, then the environment's
// principal and secret, then its token, else anonymous; a half-given pair and an unusable
// secret file are usage errors that never quote the secret.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { credentialHeaders, frameworkCredentials, resolveCredentials } from '../../src/cli/client/credentials.ts';
import { CliError } from '../../src/cli/client/errors.ts';
import { maxSecretFileBytes } from '../../src/cli/limits.ts';
import { credentialHeaders as sdkCredentialHeaders } from '../../src/frameworks/sdk/transport.ts';
import { parseAuthorization } from '../../src/protocol/http-authorization.ts';
import { makeTempDir } from '../support/tmp.ts';

const directory = makeTempDir('cli-credentials-');
const secretFile = (name: string, content: string): string => {
  const file = path.join(directory, name);
  writeFileSync(file, content);
  return file;
};
const secret = 'a-secret-of-enough-length';

function usageFailure(run: () => unknown): CliError {
  try {
    run();
  } catch (error) {
    assert.instance(error, CliError);
    assert.is((error as CliError).code, 'USAGE');
    assert.not.match((error as CliError).message, secret, 'the secret is never quoted');
    return error as CliError;
  }
  throw new Error('expected a usage error');
}

test('flags win over the environment; the file is trimmed; Basic on the wire', () => {
  const file = secretFile('ops', `  ${secret}\n`);
  const credentials = resolveCredentials(
    { principal: 'ops', secretFile: file },
    { FLOTILLA_PRINCIPAL: 'other', FLOTILLA_SECRET: 'x'.repeat(20), FLOTILLA_TOKEN: 'y'.repeat(20) },
  );
  assert.equal(credentials, { kind: 'basic', principal: 'ops', secret });
  const header = credentialHeaders(credentials).authorization!;
  assert.equal(parseAuthorization(header), { scheme: 'basic', principal: 'ops', secret });
});

test('the environment: principal and secret, else a token (Bearer), else anonymous', () => {
  assert.equal(resolveCredentials({}, { FLOTILLA_PRINCIPAL: 'web', FLOTILLA_SECRET: secret }), {
    kind: 'basic',
    principal: 'web',
    secret,
  });
  const token = resolveCredentials({}, { FLOTILLA_TOKEN: secret });
  assert.equal(token, { kind: 'bearer', token: secret });
  assert.equal(parseAuthorization(credentialHeaders(token).authorization!), { scheme: 'bearer', token: secret });
  const anonymous = resolveCredentials({}, { FLOTILLA_PRINCIPAL: '', FLOTILLA_TOKEN: '' });
  assert.equal(credentialHeaders(anonymous), {}, 'empty variables count as unset: no header at all');
});

test('half pairs, bad files and bad names are usage errors naming the flag or variable', () => {
  assert.match(usageFailure(() => resolveCredentials({ principal: 'ops' }, {})).message, '--secret-file');
  assert.match(usageFailure(() => resolveCredentials({}, { FLOTILLA_SECRET: secret })).message, 'FLOTILLA_PRINCIPAL');
  const missing = path.join(directory, 'absent');
  assert.match(usageFailure(() => resolveCredentials({ principal: 'ops', secretFile: missing }, {})).message, 'ENOENT');
  const empty = secretFile('empty', '\n');
  assert.match(usageFailure(() => resolveCredentials({ principal: 'ops', secretFile: empty }, {})).message, 'empty');
  const huge = secretFile('huge', `${secret}${'z'.repeat(maxSecretFileBytes)}`);
  assert.match(usageFailure(() => resolveCredentials({ principal: 'ops', secretFile: huge }, {})).message, 'longer');
  const file = secretFile('colon', secret);
  assert.match(usageFailure(() => resolveCredentials({ principal: 'a:b', secretFile: file }, {})).message, 'colon');
  assert.match(usageFailure(() => resolveCredentials({}, { FLOTILLA_TOKEN: 'has space' })).message, 'visible');
});

test('a framework needs a principal and its secret: a token alone is refused', () => {
  assert.equal(frameworkCredentials({}, { FLOTILLA_PRINCIPAL: 'fw', FLOTILLA_SECRET: secret }), {
    principal: 'fw',
    secret,
  });
  assert.is(frameworkCredentials({}, {}), undefined);
  assert.match(usageFailure(() => frameworkCredentials({}, { FLOTILLA_TOKEN: secret })).message, 'principal');
});

test("the SDK's headers: Basic of the principal, none without a secret, an error for a secret without a principal", () => {
  assert.equal(parseAuthorization(sdkCredentialHeaders('fw', secret).authorization!), {
    scheme: 'basic',
    principal: 'fw',
    secret,
  });
  assert.equal(sdkCredentialHeaders('fw', undefined), {});
  assert.throws(() => sdkCredentialHeaders(undefined, secret), /principal/);
});

test.run();
