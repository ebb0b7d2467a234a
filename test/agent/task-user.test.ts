// Who a task runs as: the agent's policy (--switch-user, --no-root-tasks, root or not) applied to
// the task's user, with real getent/id lookups of this machine's users, and the sandbox made
// over to that user (or refused when the user cannot reach it).
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { prepareSandbox } from '../../src/agent/sandbox-owner.ts';
import {
  checkDockerUserParameter,
  lookupUser,
  lookupUserUncached,
  resolveTaskUser,
  TaskUserError,
  type TaskUser,
  type UserPolicy,
} from '../../src/agent/task-user.ts';
import { rootUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';

const nobody: TaskUser = { name: 'nobody', uid: 65534, gid: 65534, groups: [65534] };
const rootUser: TaskUser = { name: 'root', uid: 0, gid: 0, groups: [0] };
const known = new Map([
  ['nobody', nobody],
  ['root', rootUser],
]);
const lookup = async (name: string): Promise<TaskUser | null> => known.get(name) ?? null;
const rootAgent: UserPolicy = { switchUser: true, allowRootTasks: true, agentUid: 0 };

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    assert.instance(error, TaskUserError);
    return (error as Error).message;
  }
  assert.unreachable('expected a TaskUserError');
  return '';
}

const policy = suite('task user: the policy');

policy('a root agent runs a task as its user, or as itself when the task names none', async () => {
  assert.equal(await resolveTaskUser('nobody', rootAgent, lookup), nobody);
  assert.equal(await resolveTaskUser('root', rootAgent, lookup), rootUser);
  assert.is(await resolveTaskUser(null, rootAgent, lookup), null);
});

policy('a user this machine does not know fails the launch', async () => {
  assert.match(
    await refusal(() => resolveTaskUser('ghost', rootAgent, lookup)),
    'user "ghost" does not exist on this agent',
  );
});

policy('--no-root-tasks refuses root, and a task that names no user on a root agent', async () => {
  const strict = { ...rootAgent, allowRootTasks: false };
  assert.match(await refusal(() => resolveTaskUser('root', strict, lookup)), /user "root" is root.*--no-root-tasks/);
  assert.match(await refusal(() => resolveTaskUser(null, strict, lookup)), /names no user.*--no-root-tasks/);
  assert.equal(await resolveTaskUser('nobody', strict, lookup), nobody);
});

policy('--no-switch-user runs every task as the agent user', async () => {
  const noSwitch = { ...rootAgent, switchUser: false };
  assert.is(await resolveTaskUser('nobody', noSwitch, lookup), null);
  assert.is(await resolveTaskUser('ghost', noSwitch, lookup), null, 'the name is not even looked up');
});

policy('a non-root agent cannot switch users: only its own user is accepted', async () => {
  const plain = { ...rootAgent, agentUid: 65534 };
  assert.is(await resolveTaskUser('nobody', plain, lookup), null, 'its own user needs no switch');
  assert.match(
    await refusal(() => resolveTaskUser('root', plain, lookup)),
    /runs as uid 65534 and cannot switch to user "root"/,
  );
  assert.is(await resolveTaskUser(null, plain, lookup), null);
});

policy('a docker user parameter under --no-root-tasks must be a numeric uid other than 0', () => {
  const strict = { ...rootAgent, allowRootTasks: false };
  checkDockerUserParameter('65534', strict);
  checkDockerUserParameter('1000:1000', strict);
  for (const value of ['0', '0:0', 'root', 'www-data']) {
    assert.throws(() => checkDockerUserParameter(value, strict), /numeric uid other than 0/, value);
  }
  checkDockerUserParameter('root', rootAgent);
});

policy.run();

const lookups = suite('task user: real lookups');

lookups('getent and id resolve this machine users; an unknown name is null', async () => {
  assert.equal(await lookupUser('nobody'), nobody);
  const root = await lookupUser('root');
  assert.is(root?.uid, 0);
  assert.is(root?.groups[0], 0, 'the primary group first');
  assert.is(await lookupUser(`ghost-${process.pid}`), null);
});

lookups("a lookup answered while the agent's event loop stalled past its timeout is the whole answer", async () => {
  // At load 30 with 400 launches, e2e/bounded-history failed every task of a cache window with
  // "getent passwd root answered a line that is not a passwd entry": getent had exited 0, but
  // execFile's late timer had discarded its output and reported an empty success.
  const pending = lookupUserUncached('root', 50);
  const until = performance.now() + 1_500;
  while (performance.now() < until) {
    // The agent's event loop, busy: getent exits meanwhile, and the lookup's timer is overdue.
  }
  const root = await pending;
  assert.is(root?.uid, 0);
  assert.is(root?.groups[0], 0);
});

lookups.run();

const sandboxes = suite('task user: the sandbox');

testUnless(sandboxes, rootUnavailableReason(), 'the sandbox and its output files belong to the task user', () => {
  const workDir = makeTempDir('owned-');
  chmodSync(workDir, 0o755);
  const sandbox = path.join(workDir, 'frameworks', 'f', 'tasks', 't');
  prepareSandbox(sandbox, nobody);
  for (const entry of [sandbox, path.join(sandbox, 'stdout'), path.join(sandbox, 'stderr')]) {
    assert.is(statSync(entry).uid, 65534, entry);
    assert.is(statSync(entry).gid, 65534, entry);
  }
});

testUnless(
  sandboxes,
  rootUnavailableReason(),
  'a sandbox under a folder the user cannot search is refused, naming it',
  () => {
    const workDir = makeTempDir('closed-');
    chmodSync(workDir, 0o700);
    const sandbox = path.join(workDir, 'tasks', 't');
    mkdirSync(sandbox, { recursive: true });
    assert.throws(
      () => prepareSandbox(sandbox, nobody),
      (error: unknown) =>
        error instanceof TaskUserError &&
        error.message.includes(`user "nobody" cannot reach its sandbox: ${workDir} is mode 0700 owned by uid 0`),
    );
  },
);

sandboxes('without a user, the sandbox and its files are made and left to the agent user', () => {
  const sandbox = path.join(makeTempDir('plain-'), 'task');
  prepareSandbox(sandbox, null);
  assert.is(statSync(path.join(sandbox, 'stdout')).uid, process.getuid?.());
});

sandboxes.run();
