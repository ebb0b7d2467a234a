// The pure parts of the CLI: API answers → rows, and the small parsers of command arguments.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMachine } from '../../src/cli/commands/maintenance.ts';
import { parseWeight } from '../../src/cli/commands/weights.ts';
import { CliError } from '../../src/cli/client/errors.ts';
import { agentAddress, agentRow } from '../../src/cli/views/agents.ts';
import { type MasterProbe, masterRows, type RaftView } from '../../src/cli/views/masters.ts';
import { frameworkMatches, parseStateFilter, shortId } from '../../src/cli/views/tasks.ts';
import { parseMasterAddress } from '../../src/frameworks/sdk/masters.ts';
import type * as Operator from '../../src/protocol/operator.ts';

const members: RaftView['members'] = [
  { id: 'm1', address: '127.0.0.1:1', role: 'voter', match: 40, state: 'replicate' },
  { id: 'm2', address: '127.0.0.1:2', role: 'voter', match: 37, state: 'replicate' },
  { id: 'm3', address: '127.0.0.1:3', role: 'learner', zone: 'dc3', match: 5, state: 'probe' },
];

function view(id: string, role: RaftView['role'], term: number, applied: number): RaftView {
  return {
    id,
    zone: id === 'm1' ? 'dc1' : null,
    role,
    term,
    leaderId: role === 'leader' ? id : null,
    leaderAddress: null,
    commitIndex: 40,
    appliedIndex: applied,
    snapshotIndex: 0,
    firstIndex: 1,
    lastIndex: 40,
    members,
  };
}

const probe = (address: string, answer: RaftView | null): MasterProbe => ({
  address: parseMasterAddress(address),
  view: answer,
  error: answer === null ? 'connect ECONNREFUSED' : null,
});

test('masters: the leader lists the members; lag is the leader commit minus what each applied; a master down shows its replicated zone', () => {
  const survey = masterRows([
    probe('127.0.0.1:1', view('m1', 'leader', 7, 40)),
    probe('127.0.0.1:2', view('m2', 'follower', 7, 36)),
    probe('127.0.0.1:3', null),
  ]);
  assert.is(survey.leader?.id, 'm1');
  assert.equal(
    survey.rows.map((row) => [row.id, row.role, row.membership, row.term, row.lag, row.match_index, row.zone]),
    [
      ['m1', 'leader', 'voter', 7, 0, 40, 'dc1'],
      ['m2', 'follower', 'voter', 7, 4, 37, null],
      ['m3', 'down', 'learner', null, null, 5, 'dc3'],
    ],
  );
});

test('masters: without a leader, an answering master names the members, and no lag is claimed', () => {
  const survey = masterRows([probe('127.0.0.1:2', view('m2', 'candidate', 9, 30)), probe('127.0.0.1:1', null)]);
  assert.is(survey.leader, null);
  assert.equal(
    survey.rows.map((row) => [row.id, row.role, row.lag, row.match_index]),
    [
      ['m1', 'down', null, null],
      ['m2', 'candidate', null, null],
      ['m3', 'down', null, null],
    ],
  );
});

test('masters: two that say "leader" — the higher term wins (the other has not heard yet)', () => {
  const survey = masterRows([
    probe('127.0.0.1:1', view('m1', 'leader', 7, 40)),
    probe('127.0.0.1:2', view('m2', 'leader', 8, 40)),
  ]);
  assert.is(survey.leader?.id, 'm2');
});

test('--state takes names with or without TASK_, lists, and the groups active and terminal', () => {
  assert.equal(parseStateFilter(undefined), null);
  assert.equal([...parseStateFilter('running,TASK_FAILED')!], ['TASK_RUNNING', 'TASK_FAILED']);
  const active = parseStateFilter('active')!;
  assert.ok(active.has('TASK_RUNNING') && active.has('TASK_STAGING') && !active.has('TASK_FINISHED'));
  assert.ok(parseStateFilter('terminal')!.has('TASK_GONE_BY_OPERATOR'));
  assert.throws(() => parseStateFilter('runing'), /"runing" is not a task state/);
  assert.throws(() => parseStateFilter(','), /--state is empty/);
});

test('ids: UUIDs shorten to 8 characters, other ids stay whole; --framework takes either', () => {
  const id = '9e1ae2a9-8d89-45fe-9cc5-81f85b45c430';
  assert.is(shortId(id), '9e1ae2a9');
  assert.is(shortId('flotilla-run.abc'), 'flotilla-run.abc');
  assert.ok(frameworkMatches('9e1ae2a9', id) && frameworkMatches(id, id) && frameworkMatches(null, id));
  assert.not.ok(frameworkMatches('9e1ae2a8', id));
});

test("an agent's API address comes from its pid, else from hostname and port", () => {
  const agent = (pid: string): Operator.Agent =>
    ({ pid, agent_info: { hostname: 'node-7', port: 5055 } }) as unknown as Operator.Agent;
  assert.is(agentAddress(agent('slave(1)@10.1.2.3:5051')), '10.1.2.3:5051');
  assert.is(agentAddress(agent('')), 'node-7:5055');
});

test('`flotilla agents` state: the drain state, else DEACTIVATED, else ACTIVE or INACTIVE', () => {
  const agent = (fields: Partial<Operator.Agent>): Operator.Agent =>
    ({
      pid: 'slave(1)@10.1.2.3:5051',
      agent_info: { hostname: 'node-7', port: 5055, id: { value: 'a1' }, attributes: [], resources: [] },
      active: true,
      deactivated: false,
      registered_time: { nanoseconds: 0 },
      total_resources: [],
      allocated_resources: [],
      offered_resources: [],
      ...fields,
    }) as unknown as Operator.Agent;
  assert.is(agentRow(agent({})).state, 'ACTIVE');
  assert.is(agentRow(agent({ active: false })).state, 'INACTIVE');
  assert.is(agentRow(agent({ active: false, deactivated: true })).state, 'DEACTIVATED');
  const config = { mark_gone: false };
  assert.is(agentRow(agent({ deactivated: true, drain_info: { state: 'DRAINING', config } })).state, 'DRAINING');
  assert.is(agentRow(agent({ deactivated: true, drain_info: { state: 'DRAINED', config } })).state, 'DRAINED');
});

test('machines are hostname, ip, or hostname@ip; weights are ROLE=W with W > 0', () => {
  assert.equal(parseMachine('node-1'), { hostname: 'node-1' });
  assert.equal(parseMachine('10.0.0.7'), { ip: '10.0.0.7' });
  assert.equal(parseMachine('node-1@10.0.0.7'), { hostname: 'node-1', ip: '10.0.0.7' });
  for (const bad of ['', '@', 'a@', 'a@b@c'])
    assert.throws(
      () => parseMachine(bad),
      (error: unknown) => error instanceof CliError,
    );
  assert.equal(parseWeight('prod=2.5'), { role: 'prod', weight: 2.5 });
  for (const bad of ['prod', 'prod=0', 'prod=-1', '=2', 'prod=x'])
    assert.throws(
      () => parseWeight(bad),
      (error: unknown) => (error as CliError).code === 'USAGE',
    );
});

test.run();
