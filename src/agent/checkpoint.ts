// The agent's checkpoint: one SQLite file in the work dir (WAL, synchronous=FULL), holding what
// must survive an agent restart: its id, every task it was given (the full launch spec, the
// container handle, the latest state), every executor it runs for frameworks and task groups
// (its info, framework, sandbox and container handle) and the status updates the master has
// not acknowledged yet. A task and the status update that changes its state are written in one transaction, so
// a crash never leaves a state no update reports. A file that is not a database, fails SQLite's
// check or has an unknown schema version is refused with its path named.
import { maxTerminalTasksKept } from './limits.ts';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { ContainerHandle } from './containerizer/types.ts';
import {
  parseExecutorInfo,
  parseFrameworkInfo,
  parseTaskSpec,
  type WireExecutorInfo,
  type WireFrameworkInfo,
  type WireReportedTask,
  type WireStatus,
  type WireTaskSpec,
} from '../protocol/agent.ts';
import { isTaskState } from '../protocol/task-states.ts';

/**
 * 2: the executors table; 3: each executor's authentication token. COMPAT: a version 1 file gains the
 * table (CREATE TABLE IF NOT EXISTS), a version 2 file the token column (null: an executor launched
 * before tokens existed, which an agent with --credentials then refuses); both are marked 3.
 */
export const checkpointSchemaVersion = 3;
const upgradableSchemaVersions: readonly string[] = ['1', '2'];

/** A framework's executor (CUSTOM, a process the agent started) or a task group's (DEFAULT, run in the agent). */
export type ExecutorKind = 'custom' | 'default';

export interface CheckpointedExecutor {
  readonly frameworkId: string;
  readonly executorId: string;
  readonly kind: ExecutorKind;
  readonly info: WireExecutorInfo;
  readonly framework: WireFrameworkInfo;
  readonly sandbox: string;
  readonly handle: ContainerHandle | null;
  /** Ended: its tasks' last updates were recorded; the master is told once they are acknowledged. */
  readonly terminated: boolean;
  /** Its exit status when it ended, if known. */
  readonly exitStatus: number | null;
  /** The secret it authenticates its calls with (MESOS_EXECUTOR_AUTHENTICATION_TOKEN); null for a built-in one. */
  readonly token: string | null;
}
export const checkpointFileName = 'agent.db';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export interface CheckpointedTask {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly spec: WireTaskSpec;
  readonly sandbox: string;
  readonly handle: ContainerHandle | null;
  readonly state: string;
  readonly killRequested: boolean;
}

export interface PendingUpdate {
  readonly sequence: number;
  readonly frameworkId: string;
  readonly taskId: string;
  readonly status: WireStatus;
}

/** A task's key in the checkpoint's in-memory index of pending updates. */
function taskKey(frameworkId: string, taskId: string): string {
  return `${frameworkId}\0${taskId}`;
}

const schema = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS tasks (
    framework_id TEXT NOT NULL, task_id TEXT NOT NULL, spec TEXT NOT NULL, sandbox TEXT NOT NULL,
    handle TEXT, state TEXT NOT NULL, terminal INTEGER NOT NULL DEFAULT 0, kill_requested INTEGER NOT NULL DEFAULT 0,
    changed_sequence INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (framework_id, task_id));
  CREATE TABLE IF NOT EXISTS status_updates (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT, framework_id TEXT NOT NULL, task_id TEXT NOT NULL,
    uuid TEXT NOT NULL UNIQUE, status TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS executors (
    framework_id TEXT NOT NULL, executor_id TEXT NOT NULL, kind TEXT NOT NULL, info TEXT NOT NULL,
    framework TEXT NOT NULL, sandbox TEXT NOT NULL, handle TEXT, terminated INTEGER NOT NULL DEFAULT 0,
    exit_status INTEGER, token TEXT, PRIMARY KEY (framework_id, executor_id));
  -- Pruning finds the oldest terminal tasks and whether each still has updates pending: without
  -- these, each prune was a scan of every task and, per candidate, of every pending update. An
  -- older agent opening the file ignores them (no schema version change).
  CREATE INDEX IF NOT EXISTS tasks_by_terminal ON tasks (terminal, changed_sequence);
  CREATE INDEX IF NOT EXISTS status_updates_by_task ON status_updates (framework_id, task_id);
`;

/** A version 2 file's executors table has no token column yet. */
function addTokenColumn(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(executors)').all() as { name: string }[];
  if (!columns.some((column) => column.name === 'token')) db.exec('ALTER TABLE executors ADD COLUMN token TEXT');
}

interface ExecutorRow {
  framework_id: string;
  executor_id: string;
  kind: string;
  info: string;
  framework: string;
  sandbox: string;
  handle: string | null;
  terminated: number;
  exit_status: number | null;
  token: string | null;
}

interface TaskRow {
  framework_id: string;
  task_id: string;
  spec: string;
  sandbox: string;
  handle: string | null;
  state: string;
  kill_requested: number;
}

export class Checkpoint {
  readonly #db: Database.Database;
  #changeCounter = 0;

  /** Statements by their SQL, compiled once: compiling each time was a good part of a write's cost. */
  readonly #statements = new Map<string, Database.Statement>();
  /** A transaction is open for this turn of the event loop (`#inTurn`), committed in its check phase. */
  #turnOpen = false;
  /** What waits for this turn's commit: sending what it recorded. */
  #afterCommit: (() => void)[] = [];
  /**
   * The status_updates table in memory, by task, oldest first (and each update's task by uuid),
   * kept with every insert and delete: finding a task's next update after an acknowledgement was
   * a scan of every pending row (quadratic in a burst of a thousand tasks' updates).
   */
  readonly #pending = new Map<string, PendingUpdate[]>();
  readonly #pendingTaskByUuid = new Map<string, string>();
  /** Rows read back from status_updates (only when the checkpoint opens): what tests count. */
  statusRowsRead = 0;
  /** A terminal update was recorded this turn: the old terminal tasks are pruned once, before the commit. */
  #pruneDue = false;

  private constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.#db = db;
  }

  #prepare(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs `write` in this turn's transaction, opened on the turn's first task write (a new task, its
   * container, a status update) and committed (one fsync) once the turn's callbacks ran: a burst
   * (a launch of hundreds of tasks, their exits) was an fsync each. What the turn recorded acts only
   * after the commit (`afterCommit`): an update reaches the master, a task its executor, only once
   * durable. Every other write commits the turn first: their order and durability are as before.
   */
  #inTurn<T>(write: () => T): T {
    if (!this.#turnOpen) {
      this.#db.exec('BEGIN IMMEDIATE');
      this.#turnOpen = true;
      setImmediate(() => this.commitTurn());
    }
    return write();
  }

  /** Whether status updates recorded in this turn wait for their commit. */
  get commitPending(): boolean {
    return this.#turnOpen;
  }

  /** Runs `action` once this turn's writes are durable (at once when none waits). */
  afterCommit(action: () => void): void {
    if (this.#turnOpen) this.#afterCommit.push(action);
    else action();
  }

  /**
   * Commits this turn's transaction, if one is open, then runs what waited for it. A failed commit
   * throws: the agent stops, and its restart recovers from what was durable (the master resends
   * nothing it did not get, and the agent resends what it had not sent).
   */
  commitTurn(): void {
    if (!this.#turnOpen) return;
    if (this.#pruneDue) {
      this.#pruneDue = false;
      this.#pruneTerminalTasks();
    }
    this.#db.exec('COMMIT');
    this.#turnOpen = false;
    const waiting = this.#afterCommit;
    this.#afterCommit = [];
    for (const action of waiting) action();
  }

  /** Opens or creates the checkpoint; throws CheckpointError naming the file if it is unusable. */
  static open(path: string): Checkpoint {
    const existed = existsSync(path);
    let db: Database.Database | null = null;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      if (existed) {
        const check = db.pragma('quick_check', { simple: true });
        if (check !== 'ok') throw new CheckpointError(`SQLite quick_check says: ${String(check)}`);
      }
      db.exec(schema);
      addTokenColumn(db);
      const version = (
        db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined
      )?.value;
      if (version === undefined) {
        db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(checkpointSchemaVersion));
      } else if (upgradableSchemaVersions.includes(version)) {
        db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(checkpointSchemaVersion));
      } else if (version !== String(checkpointSchemaVersion)) {
        throw new CheckpointError(`schema version ${version}, this agent reads version ${checkpointSchemaVersion}`);
      }
      const checkpoint = new Checkpoint(path, db);
      checkpoint.#changeCounter =
        (db.prepare('SELECT MAX(changed_sequence) AS top FROM tasks').get() as { top: number | null }).top ?? 0;
      checkpoint.#loadPending();
      return checkpoint;
    } catch (error) {
      db?.close();
      throw new CheckpointError(
        `the agent checkpoint ${path} is corrupted or unreadable (${(error as Error).message}); ` +
          'move it away to start this agent afresh (its tasks will then be reported lost by the master)',
      );
    }
  }

  close(): void {
    this.commitTurn();
    this.#db.close();
  }

  agentId(): string | null {
    return (
      (this.#prepare("SELECT value FROM meta WHERE key = 'agent_id'").get() as { value: string } | undefined)?.value ??
      null
    );
  }

  setAgentId(agentId: string): void {
    this.commitTurn();
    this.#prepare(
      "INSERT INTO meta (key, value) VALUES ('agent_id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ).run(agentId);
  }

  hasTask(frameworkId: string, taskId: string): boolean {
    return (
      this.#prepare('SELECT 1 FROM tasks WHERE framework_id = ? AND task_id = ?').get(frameworkId, taskId) !== undefined
    );
  }

  /**
   * The user task (frameworkId, taskId) runs as (null: the agent's own), or undefined when the
   * checkpoint does not hold the task (never given, or pruned after it ended): what the files
   * API's access_sandboxes is judged by.
   */
  taskUser(frameworkId: string, taskId: string): string | null | undefined {
    const row = this.#prepare('SELECT spec FROM tasks WHERE framework_id = ? AND task_id = ?').get(
      frameworkId,
      taskId,
    ) as { spec: string } | undefined;
    return row === undefined ? undefined : parseTaskSpec(JSON.parse(row.spec)).user;
  }

  /**
   * A task given to this agent, in this turn's transaction: tell its executor from `afterCommit`,
   * so a task runs only once it is durable. A launch of hundreds of tasks arrives in one turn and
   * was an fsync each.
   */
  addTask(task: { frameworkId: string; spec: WireTaskSpec; sandbox: string }): void {
    this.#inTurn(() =>
      this.#prepare(
        'INSERT INTO tasks (framework_id, task_id, spec, sandbox, state, changed_sequence) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(
        task.frameworkId,
        task.spec.id,
        JSON.stringify(task.spec),
        task.sandbox,
        'TASK_STAGING',
        ++this.#changeCounter,
      ),
    );
  }

  /**
   * The container a task runs in, in this turn's transaction with the TASK_RUNNING that follows
   * it (sent only once both are durable). A crash before the commit finds the task without a
   * handle, as a crash between the launch and this write always could.
   */
  setHandle(frameworkId: string, taskId: string, handle: ContainerHandle): void {
    this.#inTurn(() =>
      this.#prepare('UPDATE tasks SET handle = ? WHERE framework_id = ? AND task_id = ?').run(
        JSON.stringify(handle),
        frameworkId,
        taskId,
      ),
    );
  }

  setKillRequested(frameworkId: string, taskId: string): void {
    this.commitTurn();
    this.#prepare('UPDATE tasks SET kill_requested = 1 WHERE framework_id = ? AND task_id = ?').run(
      frameworkId,
      taskId,
    );
  }

  /**
   * Records a new status update and the task's new state together (a savepoint in this turn's
   * transaction), durable once the turn commits: send it from `afterCommit`.
   */
  recordUpdate(frameworkId: string, taskId: string, status: WireStatus, terminal: boolean): void {
    const sequence = this.#inTurn(
      this.#db.transaction(() => {
        const inserted = this.#prepare(
          'INSERT INTO status_updates (framework_id, task_id, uuid, status) VALUES (?, ?, ?, ?)',
        ).run(frameworkId, taskId, status.uuid, JSON.stringify(status));
        this.#prepare(
          'UPDATE tasks SET state = ?, terminal = ?, changed_sequence = ? WHERE framework_id = ? AND task_id = ?',
        ).run(status.state, terminal ? 1 : 0, ++this.#changeCounter, frameworkId, taskId);
        return Number(inserted.lastInsertRowid);
      }),
    );
    // Pruning scans the terminal tasks: once per turn, not once per terminal update of a burst.
    if (terminal) this.#pruneDue = true;
    this.#remember({ sequence, frameworkId, taskId, status });
  }

  #loadPending(): void {
    const rows = this.#db
      .prepare('SELECT sequence, framework_id, task_id, status FROM status_updates ORDER BY sequence')
      .all() as { sequence: number; framework_id: string; task_id: string; status: string }[];
    this.statusRowsRead += rows.length;
    for (const row of rows)
      this.#remember({
        sequence: row.sequence,
        frameworkId: row.framework_id,
        taskId: row.task_id,
        status: JSON.parse(row.status) as WireStatus,
      });
  }

  #remember(update: PendingUpdate): void {
    const key = taskKey(update.frameworkId, update.taskId);
    const queue = this.#pending.get(key);
    if (queue === undefined) this.#pending.set(key, [update]);
    else queue.push(update);
    this.#pendingTaskByUuid.set(update.status.uuid, key);
  }

  #forget(uuid: string): void {
    const key = this.#pendingTaskByUuid.get(uuid);
    if (key === undefined) return;
    this.#pendingTaskByUuid.delete(uuid);
    const queue = this.#pending.get(key) ?? [];
    const position = queue.findIndex((update) => update.status.uuid === uuid);
    if (position >= 0) queue.splice(position, 1);
    if (queue.length === 0) this.#pending.delete(key);
  }

  /**
   * The master acknowledged it: forget it. Returns false if it was not pending (a repeated ack).
   * Written without its own fsync (WAL with synchronous=NORMAL for this one commit): the next
   * FULL commit syncs it along with its own. A deletion lost to a power cut only makes the agent
   * resend an update the master has (answered as a duplicate and acknowledged again), while an
   * fsync per acknowledgement was a third of the agent's SQLite time launching `true` tasks. In a
   * turn that recorded updates, it joins that turn's commit.
   */
  acknowledge(uuid: string): boolean {
    // Not pending (a repeated ack): nothing to delete, and no commit of its own.
    if (!this.#pendingTaskByUuid.has(uuid)) return false;
    if (this.#turnOpen) this.#prepare('DELETE FROM status_updates WHERE uuid = ?').run(uuid);
    else {
      this.#db.pragma('synchronous = NORMAL');
      try {
        this.#prepare('DELETE FROM status_updates WHERE uuid = ?').run(uuid);
      } finally {
        this.#db.pragma('synchronous = FULL');
      }
    }
    this.#forget(uuid);
    return true;
  }

  /** The oldest unacknowledged update of each task: the only one that may be sent (order per task), oldest first. */
  headUpdates(): PendingUpdate[] {
    const heads: PendingUpdate[] = [];
    for (const queue of this.#pending.values()) if (queue[0] !== undefined) heads.push(queue[0]);
    return heads.sort((left, right) => left.sequence - right.sequence);
  }

  /** The task's oldest unacknowledged update, if any. */
  headUpdate(frameworkId: string, taskId: string): PendingUpdate | null {
    return this.#pending.get(taskKey(frameworkId, taskId))?.[0] ?? null;
  }

  /** How many checkpointed tasks are in each state (the agent's metrics). */
  taskCountsByState(): Record<string, number> {
    const rows = this.#prepare('SELECT state, COUNT(*) AS count FROM tasks GROUP BY state').all() as {
      state: string;
      count: number;
    }[];
    return Object.fromEntries(rows.map((row) => [row.state, row.count]));
  }

  pendingUpdateCount(): number {
    return this.#pendingTaskByUuid.size;
  }

  /** Tasks to report when re-registering: still running, or with updates the master has not acknowledged. */
  reportableTasks(): WireReportedTask[] {
    this.commitTurn();
    const rows = this.#prepare(`SELECT framework_id, task_id, state FROM tasks WHERE terminal = 0
      OR EXISTS (SELECT 1 FROM status_updates u WHERE u.framework_id = tasks.framework_id AND u.task_id = tasks.task_id)
      ORDER BY framework_id, task_id`).all() as { framework_id: string; task_id: string; state: string }[];
    return rows.map((row) => ({
      frameworkId: row.framework_id,
      taskId: row.task_id,
      state: isTaskState(row.state) ? row.state : null,
    }));
  }

  liveTasks(): CheckpointedTask[] {
    const rows = this.#prepare('SELECT * FROM tasks WHERE terminal = 0 ORDER BY changed_sequence').all() as TaskRow[];
    return rows.map((row) => ({
      frameworkId: row.framework_id,
      taskId: row.task_id,
      spec: parseTaskSpec(JSON.parse(row.spec)),
      sandbox: row.sandbox,
      handle: row.handle === null ? null : (JSON.parse(row.handle) as ContainerHandle),
      state: row.state,
      killRequested: row.kill_requested === 1,
    }));
  }

  taskStates(): { frameworkId: string; taskId: string; state: string; sandbox: string; executorId: string | null }[] {
    const rows = this.#prepare(
      'SELECT framework_id, task_id, state, sandbox, spec FROM tasks ORDER BY changed_sequence DESC LIMIT 1000',
    ).all() as TaskRow[];
    return rows.map((row) => ({
      frameworkId: row.framework_id,
      taskId: row.task_id,
      state: row.state,
      sandbox: row.sandbox,
      executorId: parseTaskSpec(JSON.parse(row.spec)).executorId,
    }));
  }

  hasUpdate(uuid: string): boolean {
    return this.#pendingTaskByUuid.has(uuid);
  }

  /** The task as checkpointed, terminal or not; null if the agent never had it (or pruned it). */
  task(frameworkId: string, taskId: string): { spec: WireTaskSpec; sandbox: string; state: string } | null {
    const row = this.#prepare('SELECT spec, sandbox, state FROM tasks WHERE framework_id = ? AND task_id = ?').get(
      frameworkId,
      taskId,
    ) as Pick<TaskRow, 'spec' | 'sandbox' | 'state'> | undefined;
    return row === undefined
      ? null
      : { spec: parseTaskSpec(JSON.parse(row.spec)), sandbox: row.sandbox, state: row.state };
  }

  // ---------------------------------------------------------------- executors

  addExecutor(executor: Omit<CheckpointedExecutor, 'handle' | 'terminated' | 'exitStatus'>): void {
    this.commitTurn();
    this.#prepare(
      `INSERT INTO executors (framework_id, executor_id, kind, info, framework, sandbox, token)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (framework_id, executor_id) DO UPDATE SET kind = excluded.kind, info = excluded.info,
        framework = excluded.framework, sandbox = excluded.sandbox, handle = NULL, terminated = 0, exit_status = NULL,
        token = excluded.token`,
    ).run(
      executor.frameworkId,
      executor.executorId,
      executor.kind,
      JSON.stringify(executor.info),
      JSON.stringify(executor.framework),
      executor.sandbox,
      executor.token,
    );
  }

  setExecutorHandle(frameworkId: string, executorId: string, handle: ContainerHandle): void {
    this.commitTurn();
    this.#prepare('UPDATE executors SET handle = ? WHERE framework_id = ? AND executor_id = ?').run(
      JSON.stringify(handle),
      frameworkId,
      executorId,
    );
  }

  setExecutorTerminated(frameworkId: string, executorId: string, exitStatus: number | null): void {
    this.commitTurn();
    this.#prepare(
      'UPDATE executors SET terminated = 1, exit_status = ? WHERE framework_id = ? AND executor_id = ?',
    ).run(exitStatus, frameworkId, executorId);
  }

  removeExecutor(frameworkId: string, executorId: string): void {
    this.commitTurn();
    this.#prepare('DELETE FROM executors WHERE framework_id = ? AND executor_id = ?').run(frameworkId, executorId);
  }

  /** Every executor, live and ended-but-unreported, in (framework, executor) order. */
  executors(): CheckpointedExecutor[] {
    const rows = this.#prepare('SELECT * FROM executors ORDER BY framework_id, executor_id').all() as ExecutorRow[];
    return rows.map((row) => ({
      frameworkId: row.framework_id,
      executorId: row.executor_id,
      kind: row.kind === 'default' ? 'default' : 'custom',
      info: parseExecutorInfo(JSON.parse(row.info)),
      framework: parseFrameworkInfo(JSON.parse(row.framework)),
      sandbox: row.sandbox,
      handle: row.handle === null ? null : (JSON.parse(row.handle) as ContainerHandle),
      terminated: row.terminated === 1,
      exitStatus: row.exit_status,
      token: row.token,
    }));
  }

  /** Live tasks on a framework's executor (or a task group's), in launch order. */
  liveTasksOfExecutor(frameworkId: string, executorId: string): CheckpointedTask[] {
    return this.liveTasks().filter((task) => task.frameworkId === frameworkId && task.spec.executorId === executorId);
  }

  /** Whether an update of any of the executor's tasks still waits for the master's acknowledgement. */
  hasPendingUpdatesOfExecutor(frameworkId: string, executorId: string): boolean {
    const rows = this.#prepare(
      `SELECT spec FROM tasks WHERE framework_id = ? AND EXISTS (SELECT 1 FROM status_updates u
        WHERE u.framework_id = tasks.framework_id AND u.task_id = tasks.task_id)`,
    ).all(frameworkId) as { spec: string }[];
    return rows.some((row) => parseTaskSpec(JSON.parse(row.spec)).executorId === executorId);
  }

  #pruneTerminalTasks(): void {
    this.#prepare(`DELETE FROM tasks WHERE terminal = 1 AND changed_sequence <= (
      SELECT changed_sequence FROM tasks WHERE terminal = 1 ORDER BY changed_sequence DESC LIMIT 1 OFFSET ?)
      AND NOT EXISTS (SELECT 1 FROM status_updates u WHERE u.framework_id = tasks.framework_id AND u.task_id = tasks.task_id)`).run(
      maxTerminalTasksKept,
    );
  }
}
