// The leadership lifecycle (src/master/leadership/lifecycle.ts) against a scripted Raft: the
// order of starts and stops, a barrier before any start, leadership lost part-way (scenario 1),
// a new term while an old establish is still awaiting (scenario 2), a start that fails (retried,
// then leadership handed over: scenario 4), a hand-over (services stopped before Raft transfers:
// scenario 3), shutdown, and waiting for the services to run.
// test/master/leadership-transfer.test.ts checks the same against real master processes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MasterError } from '../../src/master/errors.ts';
import { type LeadershipRaft, LeadershipLifecycle } from '../../src/master/leadership/lifecycle.ts';
import type { LeaderService } from '../../src/master/leadership/service.ts';
import type { CoreStatus, NodeId } from '../../src/raft/types.ts';
import { nodeId } from '../../src/raft/types.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { waitFor } from '../support/wait.ts';

/** A Raft whose role, term and barrier the test decides; hand-overs go in the journal. */
class ScriptedRaft implements LeadershipRaft {
  role: CoreStatus['role'] = 'follower';
  term = 1;
  leader = '';
  transfers = 0;
  acceptsTransfers = true;

  constructor(private readonly journal: string[]) {}

  readonly #listeners = new Set<(status: CoreStatus) => void>();
  #barriers: { resolve: () => void; reject: (error: Error) => void }[] = [];

  status(): CoreStatus {
    return {
      id: nodeId('m1'),
      role: this.role,
      term: this.term,
      vote: nodeId(''),
      leader: nodeId(this.leader),
      commit: 1,
      applied: 1,
      firstIndex: 1,
      lastIndex: 1,
      snapshotIndex: 0,
      membership: { voters: [nodeId('m1'), nodeId('m2')], learners: [], addresses: { m1: 'h:1', m2: 'h:2' } },
      transferee: nodeId(''),
      progress: {},
    };
  }

  onLeaderChange(listener: (status: CoreStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  linearizableBarrier(): Promise<void> {
    return new Promise((resolve, reject) => this.#barriers.push({ resolve, reject }));
  }

  transferLeadership(to?: NodeId): boolean {
    this.transfers += 1;
    this.journal.push(`transfer to ${to ?? 'any'}`);
    return this.acceptsTransfers;
  }

  /** Raft's role changes: the listeners run synchronously, as inside the driver's apply loop. */
  become(role: CoreStatus['role'], term: number): void {
    this.role = role;
    this.term = term;
    this.leader = role === 'leader' ? 'm1' : role === 'follower' ? 'm2' : '';
    for (const listener of this.#listeners) listener(this.status());
  }

  get pendingBarriers(): number {
    return this.#barriers.length;
  }

  passBarriers(): void {
    for (const barrier of this.#barriers.splice(0)) barrier.resolve();
  }
}

/** A service that writes what happens to it in a shared journal; its start can be held. */
class JournalService implements LeaderService {
  running = false;
  /** Starts in progress: never more than one. */
  starting = 0;
  failStarts = 0;
  hold: Promise<void> | null = null;
  #stops = 0;

  constructor(
    readonly name: string,
    private readonly journal: string[],
  ) {}

  async start(term: number): Promise<void> {
    this.starting += 1;
    assert.ok(this.starting === 1, `${this.name}: two starts at once`);
    this.journal.push(`start ${this.name} ${term}`);
    const stopsBefore = this.#stops;
    try {
      if (this.hold !== null) await this.hold;
      if (this.failStarts > 0) {
        this.failStarts -= 1;
        throw new Error(`${this.name} cannot start`);
      }
      // The contract: a stop during a pending start leaves the service stopped.
      this.running = this.#stops === stopsBefore;
    } finally {
      this.starting -= 1;
    }
  }

  stop(): void {
    this.#stops += 1;
    this.journal.push(`stop ${this.name}`);
    this.running = false;
  }
}

function setUp(names = ['a', 'b', 'c']) {
  const journal: string[] = [];
  const raft = new ScriptedRaft(journal);
  const services = names.map((name) => new JournalService(name, journal));
  const lifecycle = new LeadershipLifecycle({ raft, handOverTimeoutMs: 100, logger: silentLogger, random: () => 0 });
  lifecycle.begin(services);
  return { journal, raft, services, lifecycle };
}

/** The MasterError the promise rejects with. */
async function masterErrorOf(promise: Promise<unknown>): Promise<MasterError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MasterError) return error;
    throw error;
  }
  throw new Error('expected a MasterError, got none');
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

test('services start in order once the barrier passed, and stop in reverse on step-down', async () => {
  const { journal, raft, lifecycle } = setUp();
  raft.become('leader', 2);
  await settle();
  assert.equal(journal, [], 'nothing starts before the ReadIndex barrier');
  assert.is(lifecycle.view().state, 'establishing');
  assert.is(raft.pendingBarriers, 1);
  raft.passBarriers();
  await waitFor(() => lifecycle.view().state === 'leading', { timeoutMs: 5000, what: 'leading' });
  assert.equal(journal, ['start a 2', 'start b 2', 'start c 2']);
  assert.equal(lifecycle.view(), {
    term: 2,
    state: 'leading',
    services: [
      { name: 'a', running: true },
      { name: 'b', running: true },
      { name: 'c', running: true },
    ],
  });
  raft.become('follower', 3);
  // Synchronous: stopped inside the role-change callback, before anything else runs.
  assert.equal(journal.slice(3), ['stop c', 'stop b', 'stop a']);
  assert.equal(lifecycle.view(), {
    term: null,
    state: 'idle',
    services: [
      { name: 'a', running: false },
      { name: 'b', running: false },
      { name: 'c', running: false },
    ],
  });
});

test('leadership lost during the barrier: no service starts', async () => {
  const { journal, raft, lifecycle } = setUp();
  raft.become('leader', 2);
  await settle();
  raft.become('follower', 3);
  raft.passBarriers();
  await settle();
  await settle();
  assert.equal(journal, []);
  assert.is(lifecycle.view().state, 'idle');
});

test('leadership lost part-way: the started ones (the pending one too) stop in reverse, the rest never start', async () => {
  const { journal, raft, services, lifecycle } = setUp();
  const held = deferred();
  services[1]!.hold = held.promise;
  raft.become('leader', 2);
  await settle();
  raft.passBarriers();
  await waitFor(() => journal.length === 2, { timeoutMs: 5000, what: 'b to be starting' });
  assert.equal(journal, ['start a 2', 'start b 2']);
  raft.become('follower', 3);
  assert.equal(journal.slice(2), ['stop b', 'stop a']);
  held.resolve();
  await settle();
  await settle();
  assert.equal(journal.length, 4, 'c never starts, and nothing starts again');
  assert.is(lifecycle.view().state, 'idle');
});

test('a new term waits for the old establish to return: no service has two starts at once', async () => {
  const { journal, raft, services, lifecycle } = setUp();
  const held = deferred();
  services[1]!.hold = held.promise;
  raft.become('leader', 2);
  await settle();
  raft.passBarriers();
  await waitFor(() => journal.length === 2, { timeoutMs: 5000, what: 'b to be starting' });
  raft.become('follower', 3);
  raft.become('candidate', 4);
  raft.become('leader', 4);
  await settle();
  assert.is(raft.pendingBarriers, 0, "term 4's establish waits for term 2's");
  services[1]!.hold = null;
  held.resolve();
  await waitFor(() => raft.pendingBarriers === 1, { timeoutMs: 5000, what: "term 4's barrier" });
  raft.passBarriers();
  await waitFor(() => lifecycle.view().state === 'leading', { timeoutMs: 5000, what: 'leading in term 4' });
  assert.equal(journal, ['start a 2', 'start b 2', 'stop b', 'stop a', 'start a 4', 'start b 4', 'start c 4']);
  assert.is(lifecycle.view().term, 4);
});

async function leading(raft: ScriptedRaft, lifecycle: LeadershipLifecycle, term: number): Promise<void> {
  raft.become('leader', term);
  await settle();
  raft.passBarriers();
  await waitFor(() => lifecycle.view().state === 'leading', { timeoutMs: 5000, what: `leading in term ${term}` });
}

test('a hand-over stops the services before Raft is asked to transfer (scenario 3)', async () => {
  const { journal, raft, lifecycle } = setUp();
  await leading(raft, lifecycle, 2);
  assert.not.ok(lifecycle.handOver(nodeId('m9')), 'not a voter');
  assert.not.ok(lifecycle.handOver(nodeId('m1')), 'itself');
  assert.is(journal.length, 3, 'a hand-over that cannot happen stops nothing');
  assert.ok(lifecycle.handOver(nodeId('m2')));
  assert.equal(journal.slice(3), ['stop c', 'stop b', 'stop a', 'transfer to m2']);
  assert.is(lifecycle.view().state, 'idle');
  raft.become('follower', 3);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.is(raft.pendingBarriers, 0, 'nothing is established again');
  assert.is(journal.length, 7);
});

test('a hand-over that does not complete, or that Raft refuses: the leader leads on', async () => {
  const { journal, raft, lifecycle } = setUp(['a']);
  await leading(raft, lifecycle, 2);
  assert.ok(lifecycle.handOver());
  await settle();
  assert.is(raft.pendingBarriers, 0, 'no establish while the hand-over may still complete');
  await waitFor(() => raft.pendingBarriers === 1, { timeoutMs: 5000, what: 'an establish after the time-out' });
  raft.passBarriers();
  await waitFor(() => lifecycle.view().state === 'leading', { timeoutMs: 5000, what: 'leading on' });
  raft.acceptsTransfers = false;
  assert.not.ok(lifecycle.handOver(nodeId('m2')));
  await waitFor(() => raft.pendingBarriers === 1, { timeoutMs: 5000, what: 'an establish at once' });
  raft.passBarriers();
  await waitFor(() => lifecycle.view().state === 'leading', { timeoutMs: 5000, what: 'leading on again' });
  assert.equal(journal, [
    'start a 2',
    'stop a',
    'transfer to any',
    'start a 2',
    'stop a',
    'transfer to m2',
    'start a 2',
  ]);
});

test('a start that fails: the started ones stop in reverse, and the establish is retried', async () => {
  const { journal, raft, services, lifecycle } = setUp();
  services[2]!.failStarts = 1;
  raft.become('leader', 2);
  await settle();
  raft.passBarriers();
  await waitFor(() => raft.pendingBarriers === 1, { timeoutMs: 5000, what: 'the retry' });
  assert.equal(journal, ['start a 2', 'start b 2', 'start c 2', 'stop c', 'stop b', 'stop a']);
  assert.is(lifecycle.view().state, 'establishing');
  raft.passBarriers();
  await waitFor(() => lifecycle.view().state === 'leading', { timeoutMs: 5000, what: 'leading after the retry' });
  assert.equal(journal.slice(6), ['start a 2', 'start b 2', 'start c 2']);
  assert.is(raft.transfers, 0);
});

test('a start that keeps failing: leadership is handed over after three attempts', async () => {
  const { raft, services, lifecycle } = setUp();
  services[0]!.failStarts = 1000;
  raft.become('leader', 2);
  for (let attempt = 1; attempt <= 3; attempt++) {
    await waitFor(() => raft.pendingBarriers === 1, { timeoutMs: 10_000, what: `attempt ${attempt}` });
    raft.passBarriers();
  }
  await waitFor(() => raft.transfers === 1, { timeoutMs: 5000, what: 'the hand-over' });
  raft.become('follower', 3);
  assert.is(lifecycle.view().state, 'idle');
  assert.ok(
    services.every((service) => !service.running),
    'no service runs',
  );
});

test('shutdown stops the services and none starts again', async () => {
  const { journal, raft, lifecycle } = setUp(['a', 'b']);
  raft.become('leader', 2);
  await settle();
  raft.passBarriers();
  await waitFor(() => lifecycle.view().state === 'leading', { timeoutMs: 5000, what: 'leading' });
  lifecycle.shutDown();
  assert.equal(journal.slice(2), ['stop b', 'stop a']);
  raft.become('follower', 3);
  raft.become('leader', 4);
  await settle();
  assert.is(raft.pendingBarriers, 0);
  assert.is((await masterErrorOf(lifecycle.awaitRunning(10))).code, 'STOPPING');
});

test('awaitRunning: waits for an establish, says where the leader is, gives up with a retryable code', async () => {
  const { raft, lifecycle } = setUp(['a']);
  raft.become('follower', 2);
  const notLeader = await masterErrorOf(lifecycle.awaitRunning(10));
  assert.is(notLeader.code, 'NOT_LEADER');
  assert.is(notLeader.leaderAddress, 'h:2');
  raft.become('leader', 3);
  assert.is((await masterErrorOf(lifecycle.awaitRunning(20))).code, 'LEADER_SERVICES_NOT_RUNNING');
  const waiting = lifecycle.awaitRunning(5000);
  raft.passBarriers();
  await waiting;
  assert.is(lifecycle.view().state, 'leading');
});

test('a stop that throws is raised once every other service stopped', async () => {
  const { journal, raft, services, lifecycle } = setUp();
  raft.become('leader', 2);
  await settle();
  raft.passBarriers();
  await waitFor(() => lifecycle.view().state === 'leading', { timeoutMs: 5000, what: 'leading' });
  services[1]!.stop = () => {
    journal.push('stop b (throws)');
    throw new Error('b is broken');
  };
  assert.throws(() => raft.become('follower', 3), /b is broken/);
  assert.equal(journal.slice(3), ['stop c', 'stop b (throws)', 'stop a']);
  assert.is(lifecycle.view().state, 'idle');
});

test.run();
