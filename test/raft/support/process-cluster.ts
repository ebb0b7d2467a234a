// Real replica processes (test/raft/fixtures/replica.ts) on loopback ports, for integration tests
// and benchmarks: each has its own data dir, SQLite log and ws connections.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type StorageWriterMode, storageWriterModes } from '../../../src/raft/storage-writer.ts';
import { stopChild } from '../../support/child-exit.ts';
import { waitFor } from '../../support/wait.ts';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'replica.ts');
const flotillaBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'flotilla.js');

/**
 * The storage writer the tests' replicas run with: FLOTILLA_TEST_RAFT_STORAGE_WRITER=thread runs a
 * subset of the raft and jepsen-lite tests against the worker-thread writer; the default is the
 * product's default (inline). Passed as --raft-storage-writer (the fixture and the master take it).
 */
export function testStorageWriter(): StorageWriterMode {
  const mode = process.env.FLOTILLA_TEST_RAFT_STORAGE_WRITER ?? 'inline';
  if (!(storageWriterModes as readonly string[]).includes(mode))
    throw new Error(`FLOTILLA_TEST_RAFT_STORAGE_WRITER must be one of ${storageWriterModes.join(', ')}, got ${mode}`);
  return mode as StorageWriterMode;
}

/** What runs: the Raft test replica (test/raft/fixtures/replica.ts) or the real `flotilla master`. */
export type ReplicaProgram = 'raft-fixture' | 'master';

export interface ReplicaProcess {
  readonly id: string;
  readonly address: string;
  child: ChildProcess | null;
  output: string;
}

export interface ReplicaStatus {
  id: string;
  role: string;
  term: number;
  leader: string;
  commit: number;
  applied: number;
  snapshotIndex: number;
  firstIndex: number;
  lastIndex: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Starting the processes (node loading the TypeScript through tsx, then an election): seconds on
 * an idle machine, but over 30 s was seen for three masters at a load of 35 on the shared 2 cores.
 */
export const startTimeoutMs = 90_000;
/** How much of each replica's output a failed leader wait quotes. */
const leaderlessOutputChars = 1_500;
/**
 * A master's clean stop (SIGTERM) checkpoints its WAL and closes its sockets: well under a second
 * at rest; the bound is for a loaded machine, and a stop that outlasts it is a hang to report.
 */
const stopTimeoutMs = 60_000;

export class ProcessCluster {
  readonly replicas: ReplicaProcess[] = [];
  /** Each replica's whole output, beside its data directory (`output` keeps only its end). */
  readonly #logs = new Map<string, WriteStream>();

  private constructor(
    readonly dataRoot: string,
    readonly extraArgs: string[],
    readonly program: ReplicaProgram,
  ) {}

  static async start(
    dataRoot: string,
    size: number,
    extraArgs: string[] = [],
    program: ReplicaProgram = 'raft-fixture',
    /** Flags of one replica only (its --zone, say), after `extraArgs`. */
    extraFor: (id: string) => string[] = () => [],
  ): Promise<ProcessCluster> {
    const cluster = new ProcessCluster(dataRoot, extraArgs, program);
    for (let position = 1; position <= size; position++) {
      cluster.replicas.push({ id: `m${position}`, address: `127.0.0.1:${await freePort()}`, child: null, output: '' });
    }
    for (const replica of cluster.replicas) cluster.launch(replica, extraFor(replica.id));
    try {
      await cluster.waitForLeader(startTimeoutMs);
      // A leader needs only a majority; tests talk to every replica, so wait for all to serve.
      await waitFor(
        async () =>
          (await Promise.all(cluster.replicas.map((replica) => cluster.status(replica)))).every(
            (status) => status !== null,
          ),
        {
          timeoutMs: startTimeoutMs,
          what: 'every replica to answer',
          intervalMs: 50,
        },
      );
    } catch (error) {
      // The caller gets no cluster to stop: running replicas would keep its process alive.
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  peersFlag(): string {
    return this.replicas.map((replica) => `${replica.id}=${replica.address}`).join(',');
  }

  launch(replica: ReplicaProcess, extra: string[] = []): void {
    const [host, port] = replica.address.split(':');
    // node itself with tsx as a loader, not the tsx wrapper: a SIGKILL must hit the replica.
    // Masters host no built-in framework unless a test asks (`--services hosted --jobs hosted` in
    // its extra arguments, which come later and win): the other tests count frameworks and offers.
    const entry =
      this.program === 'master'
        ? [flotillaBin, 'master', '--services', 'off', '--jobs', 'off']
        : ['--import', 'tsx', fixture];
    const child = spawn(
      process.execPath,
      [
        // Node flags NODE_OPTIONS refuses (the launch bench's --cpu-prof), space-separated.
        ...(process.env.FLOTILLA_REPLICA_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== ''),
        ...entry,
        '--id',
        replica.id,
        '--listen',
        `${host}:${port}`,
        '--peers',
        this.peersFlag(),
        '--data-dir',
        path.join(this.dataRoot, replica.id),
        '--raft-storage-writer',
        testStorageWriter(),
        ...this.extraArgs,
        ...extra,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FLOTILLA_LOG_LEVEL: process.env.FLOTILLA_LOG_LEVEL ?? 'info' },
      },
    );
    replica.child = child;
    mkdirSync(this.dataRoot, { recursive: true });
    this.#logs.get(replica.id)?.end();
    const log = createWriteStream(this.logPath(replica), { flags: 'a' });
    this.#logs.set(replica.id, log);
    const keep = (chunk: Buffer): void => {
      replica.output = (replica.output + chunk.toString('utf8')).slice(-200_000);
      if (!log.writableEnded) log.write(chunk);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // A replica that ends without kill() is a finding (a crash, an exit on a failed write). The test
    // usually fails later and elsewhere (CI once saw only "kill ESRCH" from a SIGSTOP), so its last
    // words are printed here, once its output has been read to the end.
    child.once('close', (code, signal) => {
      if (replica.child !== child) return;
      process.stderr.write(
        `replica ${replica.id} ended on its own (exit code ${code}, signal ${signal}); its last output:\n` +
          `${replica.output.slice(-6_000)}\n`,
      );
    });
  }

  logPath(replica: ReplicaProcess): string {
    return path.join(this.dataRoot, `${replica.id}.log`);
  }

  /** Everything the replica wrote, across its restarts: at a thousand agents `output`'s end is not enough. */
  async wholeOutput(replica: ReplicaProcess): Promise<string> {
    const log = this.#logs.get(replica.id);
    if (log !== undefined && !log.writableEnded) await new Promise<void>((resolve) => log.write('', () => resolve()));
    return readFile(this.logPath(replica), 'utf8').catch(() => replica.output);
  }

  replica(id: string): ReplicaProcess {
    const replica = this.replicas.find((candidate) => candidate.id === id);
    if (!replica) throw new Error(`no replica ${id}`);
    return replica;
  }

  async status(replica: ReplicaProcess): Promise<ReplicaStatus | null> {
    if (replica.child === null) return null;
    try {
      if (this.program === 'master') {
        const response = await fetch(`http://${replica.address}/health`, { signal: AbortSignal.timeout(1000) });
        const health = (await response.json()) as {
          id: string;
          role: string;
          term: number;
          leader: string | null;
          commitIndex: number;
          appliedIndex: number;
        };
        return {
          id: health.id,
          role: health.role,
          term: health.term,
          leader: health.leader ?? '',
          commit: health.commitIndex,
          applied: health.appliedIndex,
          snapshotIndex: 0,
          firstIndex: 0,
          lastIndex: 0,
        };
      }
      const response = await fetch(`http://${replica.address}/status`, { signal: AbortSignal.timeout(1000) });
      return (await response.json()) as ReplicaStatus;
    } catch {
      return null;
    }
  }

  async waitForLeader(timeoutMs = 30_000, excluding: string[] = []): Promise<ReplicaProcess> {
    return waitFor(
      async () => {
        for (const replica of this.replicas) {
          if (excluding.includes(replica.id)) continue;
          const status = await this.status(replica);
          if (status?.role === 'leader') return replica;
        }
        return null;
      },
      { timeoutMs, what: `a leader among ${this.replicas.map((replica) => replica.id).join(', ')}`, intervalMs: 20 },
    ).catch((error: Error) => {
      // Without the replicas' last words "no leader" cannot tell a slow start from a crash or a split vote.
      const lastWords = this.replicas.map(
        (replica) =>
          `--- ${replica.id} (${replica.child === null ? 'not running' : `pid ${replica.child.pid}`}), its output ends:\n` +
          replica.output.slice(-leaderlessOutputChars),
      );
      throw new Error(`${error.message}\n${lastWords.join('\n')}`, { cause: error });
    });
  }

  /** Stops the replica; one that ignores a SIGTERM for `stopTimeoutMs` is SIGKILLed and the stop fails. */
  async kill(replica: ReplicaProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = replica.child;
    if (child === null) return;
    replica.child = null;
    await stopChild(child, signal, { timeoutMs: stopTimeoutMs, what: `replica ${replica.id}` });
  }

  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => this.kill(replica, 'SIGKILL')));
    for (const log of this.#logs.values()) log.end();
  }
}

/** Proposes through whichever replica leads, following 421 answers; one idempotency key per value. */
export class ProposingClient {
  private sequence = 0;
  private target = 0;

  constructor(
    readonly cluster: ProcessCluster,
    readonly clientId: string,
  ) {}

  /** Resolves true once acknowledged; false if it gave up (outcome unknown). Retries reuse the key. */
  async propose(value: string, deadlineMs = 20_000): Promise<boolean> {
    const sequence = ++this.sequence;
    const deadline = Date.now() + deadlineMs;
    while (Date.now() < deadline) {
      const replica = this.cluster.replicas[this.target % this.cluster.replicas.length]!;
      if (replica.child === null) {
        this.target++;
        continue;
      }
      try {
        const key = encodeURIComponent(`${this.clientId}/${sequence}`);
        const response = await fetch(`http://${replica.address}/propose?key=${key}`, {
          method: 'POST',
          body: value,
          signal: AbortSignal.timeout(3000),
        });
        if (response.status === 200) return true;
        const body = (await response.json()) as { leader?: string | null };
        const leaderAt = this.cluster.replicas.findIndex((candidate) => candidate.address === body.leader);
        this.target = leaderAt >= 0 ? leaderAt : this.target + 1;
      } catch {
        this.target++;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }
}
