// Master lists, redirect locations and the reconnection schedule of the SDK.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  parseMasterList,
  parseRedirectLocation,
  splitMasterAddress,
  type MasterAddress,
} from '../../src/frameworks/sdk/masters.ts';
import { reconnectStep } from '../../src/frameworks/sdk/reconnect.ts';

test('master lists: host:port, comma separated, duplicates dropped, bad entries named', () => {
  assert.equal(parseMasterList('127.0.0.1:5050, 127.0.0.1:5051,,127.0.0.1:5050'), ['127.0.0.1:5050', '127.0.0.1:5051']);
  assert.equal(parseMasterList('[::1]:5050,master-2.example.com:80'), ['[::1]:5050', 'master-2.example.com:80']);
  assert.throws(() => parseMasterList(''), /empty/);
  assert.throws(() => parseMasterList('127.0.0.1'), /"127.0.0.1" is not host:port/);
  assert.throws(() => parseMasterList('h:0'), /not host:port/);
  assert.throws(() => parseMasterList('h:70000'), /not host:port/);
  assert.equal(splitMasterAddress('[::1]:5050' as MasterAddress), { host: '::1', port: 5050 });
});

test('a redirect Location is scheme-relative (as Mesos writes it) or absolute http', () => {
  assert.is(parseRedirectLocation('//127.0.0.1:5051/api/v1/scheduler'), '127.0.0.1:5051');
  assert.is(parseRedirectLocation('http://m2.local:5052/api/v1/scheduler'), 'm2.local:5052');
  assert.is(parseRedirectLocation('//[::1]:5051/api/v1/scheduler'), '[::1]:5051');
  assert.is(parseRedirectLocation(undefined), null);
  assert.is(parseRedirectLocation('/api/v1/scheduler'), null);
  assert.is(parseRedirectLocation('https://m2:5052/'), null);
  assert.is(parseRedirectLocation('//m2/api/v1/scheduler'), null);
});

test('reconnection tries the masters after the lost one in turn, with growing jittered delays', () => {
  const masters = ['a:1', 'b:1', 'c:1'] as MasterAddress[];
  const policy = { baseMs: 100, maxMs: 1_000 };
  const low = (): number => 0;
  const high = (): number => 0.999;
  assert.equal(
    [0, 1, 2, 3].map((attempt) => reconnectStep(masters, 'b:1' as MasterAddress, attempt, policy, low).master),
    ['c:1', 'a:1', 'b:1', 'c:1'],
  );
  assert.is(reconnectStep(masters, null, 0, policy, low).master, 'a:1');
  // Equal jitter: [window/2, window], window doubling up to the cap.
  assert.equal(
    [0, 1, 2, 5].map((attempt) => reconnectStep(masters, null, attempt, policy, low).delayMs),
    [50, 100, 200, 500],
  );
  assert.equal(
    [0, 1, 2, 5].map((attempt) => reconnectStep(masters, null, attempt, policy, high).delayMs),
    [100, 200, 400, 1000],
  );
  assert.throws(() => reconnectStep([], null, 0, policy, low), /no masters/);
});

test.run();
