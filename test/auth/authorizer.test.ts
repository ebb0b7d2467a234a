// The ACL file and the authorizer, against the examples of Mesos' authorization.md: first
// matching rule decides, NONE denies, ANY subjects are the only ones that apply to anonymous
// requests, `permissive` decides when no rule matches, KV objects match by prefix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aclActionNames, parseAcls } from '../../src/auth/acls.ts';
import { AuthFileError } from '../../src/auth/auth-file.ts';
import { Authorizer } from '../../src/auth/authorizer.ts';
import { anonymousRequester, clusterRequester, principalRequester } from '../../src/auth/requester.ts';

const ops = principalRequester('ops');
const web = principalRequester('web');
const jobs = principalRequester('jobs');

test('no ACL file allows everything to everyone', () => {
  const authorizer = new Authorizer(null);
  for (const action of aclActionNames) {
    assert.ok(authorizer.allows(anonymousRequester, action, 'x'));
    assert.ok(authorizer.allows(ops, action, null));
    assert.ok(authorizer.allowsEverything(action));
  }
});

test('register_frameworks: values, NONE, and the first matching rule decides (authorization.md)', () => {
  const authorizer = new Authorizer(
    parseAcls(
      {
        register_frameworks: [
          { principals: { values: ['web'] }, roles: { values: ['web', 'shared'] } },
          { principals: { values: ['web'] }, roles: { type: 'NONE' } },
          { principals: { type: 'ANY' }, roles: { values: ['shared'] } },
        ],
      },
      'acls.json',
    ),
  );
  assert.ok(authorizer.allows(web, 'register_frameworks', 'web'));
  assert.ok(authorizer.allows(web, 'register_frameworks', 'shared'));
  assert.not.ok(authorizer.allows(web, 'register_frameworks', 'batch'), 'web is in no other role');
  assert.ok(authorizer.allows(jobs, 'register_frameworks', 'shared'), 'ANY principal in shared');
  assert.ok(authorizer.allows(jobs, 'register_frameworks', 'batch'), 'no rule matches: permissive by default');
  assert.ok(authorizer.allows(anonymousRequester, 'register_frameworks', 'shared'), 'ANY covers anonymous');
  assert.not.ok(authorizer.allowsEverything('register_frameworks'));
  assert.ok(authorizer.allowsEverything('run_tasks'));
});

test('permissive false denies what no rule allows; NONE subjects deny everyone', () => {
  const authorizer = new Authorizer(
    parseAcls(
      {
        permissive: false,
        teardown_frameworks: [
          { principals: { values: ['ops'] }, framework_principals: { type: 'ANY' } },
          { principals: { type: 'NONE' }, framework_principals: { values: ['jobs'] } },
          { principals: { type: 'ANY' }, framework_principals: { values: ['web'] } },
        ],
        run_tasks: [{ principals: { values: ['web'] }, users: { values: ['www-data'] } }],
      },
      'acls.json',
    ),
  );
  assert.ok(authorizer.allows(ops, 'teardown_frameworks', 'jobs'));
  assert.ok(authorizer.allows(ops, 'teardown_frameworks', null), 'ANY object allows an unnamed one');
  assert.not.ok(authorizer.allows(web, 'teardown_frameworks', 'jobs'), 'NONE subjects match and deny');
  assert.not.ok(authorizer.allows(anonymousRequester, 'teardown_frameworks', 'jobs'));
  assert.ok(authorizer.allows(web, 'teardown_frameworks', 'web'));
  assert.ok(authorizer.allows(anonymousRequester, 'teardown_frameworks', 'web'));
  assert.not.ok(authorizer.allows(web, 'teardown_frameworks', null), 'an unnamed object needs ANY');
  assert.ok(authorizer.allows(web, 'run_tasks', 'www-data'));
  assert.not.ok(authorizer.allows(web, 'run_tasks', 'root'));
  assert.not.ok(authorizer.allows(web, 'run_tasks', null), 'a task without a user needs users ANY');
  assert.not.ok(authorizer.allows(ops, 'update_quotas', 'web'), 'no rule, not permissive');
  assert.ok(authorizer.allows(clusterRequester, 'update_quotas', 'web'), 'the cluster is always allowed');
});

test('anonymous requests match only ANY subjects, as requests without a principal do in Mesos', () => {
  const authorizer = new Authorizer(
    parseAcls(
      {
        permissive: false,
        view_tasks: [
          { principals: { values: ['ops'] }, users: { type: 'ANY' } },
          { principals: { type: 'ANY' }, users: { values: ['nobody'] } },
        ],
      },
      'acls.json',
    ),
  );
  assert.ok(authorizer.allows(anonymousRequester, 'view_tasks', 'nobody'));
  assert.not.ok(authorizer.allows(anonymousRequester, 'view_tasks', 'root'));
  assert.ok(authorizer.allows(ops, 'view_tasks', 'root'));
});

test('KV prefixes match by prefix; other objects by equality', () => {
  const authorizer = new Authorizer(
    parseAcls(
      {
        permissive: false,
        write_kv: [{ principals: { values: ['jobs'] }, prefixes: { values: ['flotilla-jobs/'] } }],
        read_kv: [{ principals: { type: 'ANY' }, prefixes: { type: 'ANY' } }],
        update_weights: [{ principals: { values: ['ops'] }, roles: { values: ['web'] } }],
      },
      'acls.json',
    ),
  );
  assert.ok(authorizer.allows(jobs, 'write_kv', 'flotilla-jobs/jobs/a'));
  assert.not.ok(authorizer.allows(jobs, 'write_kv', 'flotilla-jobsX/a'));
  assert.not.ok(authorizer.allows(web, 'write_kv', 'flotilla-jobs/jobs/a'));
  assert.ok(authorizer.allows(web, 'read_kv', 'anything/at/all'));
  assert.not.ok(authorizer.allows(ops, 'update_weights', 'web-extra'), 'roles match exactly');
});

test('malformed ACL files are refused with the place named', () => {
  const cases: [unknown, string][] = [
    [{ permissive: 'no' }, '"permissive" must be true or false'],
    [{ register_framework: [] }, 'unknown members register_framework'],
    [{ run_tasks: {} }, '"run_tasks" must be a list'],
    [{ run_tasks: [{ principals: { type: 'ANY' } }] }, 'run_tasks[0] needs "principals" and "users"'],
    [{ run_tasks: [{ principals: { type: 'ANY' }, roles: { type: 'ANY' } }] }, 'unknown members roles'],
    [{ run_tasks: [{ principals: { type: 'ALL' }, users: { type: 'ANY' } }] }, 'run_tasks[0].principals.type'],
    [{ run_tasks: [{ principals: { values: [] }, users: { type: 'ANY' } }] }, 'run_tasks[0].principals.values'],
    [{ run_tasks: [{ principals: { values: [1] }, users: { type: 'ANY' } }] }, 'principals.values[0]'],
    [{ run_tasks: [{ principals: { type: 'ANY', values: ['a'] }, users: { type: 'ANY' } }] }, 'takes no values'],
  ];
  for (const [json, expected] of cases) {
    try {
      parseAcls(json, 'acls.json');
      assert.unreachable(`accepted ${JSON.stringify(json)}`);
    } catch (error) {
      assert.instance(error, AuthFileError);
      assert.ok((error as Error).message.includes(expected), `${(error as Error).message} should say ${expected}`);
    }
  }
});

test.run();
