// The Authorization header: Basic and Bearer both ways, and every malformed header refused
// with a reason that never quotes it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  basicAuthorization,
  bearerAuthorization,
  isMalformed,
  parseAuthorization,
} from '../../src/protocol/http-authorization.ts';

test('Basic and Bearer round-trip, schemes in any case', () => {
  assert.equal(parseAuthorization(basicAuthorization('ops', 'a:secret:with:colons')), {
    scheme: 'basic',
    principal: 'ops',
    secret: 'a:secret:with:colons',
  });
  assert.equal(parseAuthorization(`basic ${Buffer.from('ops:s3cret').toString('base64')}`), {
    scheme: 'basic',
    principal: 'ops',
    secret: 's3cret',
  });
  assert.equal(parseAuthorization(bearerAuthorization('tok-en_1234567890')), {
    scheme: 'bearer',
    token: 'tok-en_1234567890',
  });
  assert.equal(parseAuthorization('BEARER tok'), { scheme: 'bearer', token: 'tok' });
});

test('malformed headers are refused without quoting them', () => {
  const secretLike = 'hunter2hunter2hunter2';
  const cases = [
    'Digest username="ops"',
    secretLike,
    'Bearer',
    'Bearer ',
    `Bearer ${secretLike} more`,
    'Basic',
    'Basic !!!!',
    'Basic abc',
    `Basic ${Buffer.from(secretLike).toString('base64')}`,
    `Basic ${Buffer.from(`:${secretLike}`).toString('base64')}`,
    `Bearer ${'x'.repeat(5000)}`,
  ];
  for (const header of cases) {
    const parsed = parseAuthorization(header);
    assert.ok(isMalformed(parsed), `${header.slice(0, 40)} is refused`);
    if (isMalformed(parsed)) assert.not.ok(parsed.malformed.includes(secretLike), parsed.malformed);
  }
});

test('the encoders refuse what cannot be sent', () => {
  assert.throws(() => basicAuthorization('a:b', 'secret'));
  assert.throws(() => basicAuthorization('', 'secret'));
  assert.throws(() => bearerAuthorization('has space'));
});

test.run();
