// The agent's checkpoint: one SQLite file in the work dir (WAL, synchronous=FULL), holding what
// must survive an agent restart: its id, every task it was given (the full launch spec, the
// container handle, the latest state) and the status updates the master has not acknowledged
// yet. A task and the status update that changes its state are written in one transaction, so
// a crash never leaves a state no update reports. A file that is not a database, fails SQLite's
// check or has an unknown schema version is refused with its path named.
import { maxTerminalTasksKept } from './limits.ts';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { ContainerHandle } from './containerizer/types.ts';
import { parseTaskSpec, type WireStatus, type WireTaskSpec } from '../protocol/agent.ts';

export const checkpointSchemaVersion = 1;
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

const schema = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS tasks (
    framework_id TEXT NOT NULL, task_id TEXT NOT NULL, spec TEXT NOT NULL, sandbox TEXT NOT NULL,
    handle TEXT, state TEXT NOT NULL, terminal INTEGER NOT NULL DEFAULT 0, kill_requested INTEGER NOT NULL DEFAULT 0,
    changed_sequence INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (framework_id, task_id));
  CREATE TABLE IF NOT EXISTS status_updates (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT, framework_id TEXT NOT NULL, task_id TEXT NOT NULL,
    uuid TEXT NOT NULL UNIQUE, status TEXT NOT NULL);
`;

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

  private constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.#db = db;
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
      const version = (
        db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined
      )?.value;
      if (version === undefined) {
        db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(checkpointSchemaVersion));
      } else if (version !== String(checkpointSchemaVersion)) {
        throw new CheckpointError(`schema version ${version}, this agent reads version ${checkpointSchemaVersion}`);
      }
      const checkpoint = new Checkpoint(path, db);
      checkpoint.#changeCounter =
        (db.prepare('SELECT MAX(changed_sequence) AS top FROM tasks').get() as { top: number | null }).top ?? 0;
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
    this.#db.close();
  }

  agentId(): string | null {
    return (
      (this.#db.prepare("SELECT value FROM meta WHERE key = 'agent_id'").get() as { value: string } | undefined)
        ?.value ?? null
    );
  }

  setAgentId(agentId: string): void {
    this.#db
      .prepare(
        "INSERT INTO meta (key, value) VALUES ('agent_id', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(agentId);
  }

  hasTask(frameworkId: string, taskId: string): boolean {
    return (
      this.#db.prepare('SELECT 1 FROM tasks WHERE framework_id = ? AND task_id = ?').get(frameworkId, taskId) !==
      undefined
    );
  }

  /**
   * The user task (frameworkId, taskId) runs as (null: the agent's own), or undefined when the
   * checkpoint does not hold the task (never given, or pruned after it ended): what the files
   * API's access_sandboxes is judged by.
   */
  taskUser(frameworkId: string, taskId: string): string | null | undefined {
    const row = this.#db
      .prepare('SELECT spec FROM tasks WHERE framework_id = ? AND task_id = ?')
      .get(frameworkId, taskId) as { spec: string } | undefined;
    return row === undefined ? undefined : parseTaskSpec(JSON.parse(row.spec)).user;
  }

  addTask(task: { frameworkId: string; spec: WireTaskSpec; sandbox: string }): void {
    this.#db
      .prepare(
        'INSERT INTO tasks (framework_id, task_id, spec, sandbox, state, changed_sequence) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        task.frameworkId,
        task.spec.id,
        JSON.stringify(task.spec),
        task.sandbox,
        'TASK_STAGING',
        ++this.#changeCounter,
      );
  }

  setHandle(frameworkId: string, taskId: string, handle: ContainerHandle): void {
    this.#db
      .prepare('UPDATE tasks SET handle = ? WHERE framework_id = ? AND task_id = ?')
      .run(JSON.stringify(handle), frameworkId, taskId);
  }

  setKillRequested(frameworkId: string, taskId: string): void {
    this.#db
      .prepare('UPDATE tasks SET kill_requested = 1 WHERE framework_id = ? AND task_id = ?')
      .run(frameworkId, taskId);
  }

  /** Records a new status update and the task's new state in one transaction. */
  recordUpdate(frameworkId: string, taskId: string, status: WireStatus, terminal: boolean): void {
    this.#db.transaction(() => {
      this.#db
        .prepare('INSERT INTO status_updates (framework_id, task_id, uuid, status) VALUES (?, ?, ?, ?)')
        .run(frameworkId, taskId, status.uuid, JSON.stringify(status));
      this.#db
        .prepare(
          'UPDATE tasks SET state = ?, terminal = ?, changed_sequence = ? WHERE framework_id = ? AND task_id = ?',
        )
        .run(status.state, terminal ? 1 : 0, ++this.#changeCounter, frameworkId, taskId);
      if (terminal) this.#pruneTerminalTasks();
    })();
  }

  /** The master acknowledged it: forget it. Returns false if it was not pending (a repeated ack). */
  acknowledge(uuid: string): boolean {
    return this.#db.prepare('DELETE FROM status_updates WHERE uuid = ?').run(uuid).changes > 0;
  }

  /** The oldest unacknowledged update of each task: the only one that may be sent (order per task). */
  headUpdates(): PendingUpdate[] {
    const rows = this.#db
      .prepare(`SELECT sequence, framework_id, task_id, status FROM status_updates
      WHERE sequence IN (SELECT MIN(sequence) FROM status_updates GROUP BY framework_id, task_id) ORDER BY sequence`)
      .all() as { sequence: number; framework_id: string; task_id: string; status: string }[];
    return rows.map((row) => ({
      sequence: row.sequence,
      frameworkId: row.framework_id,
      taskId: row.task_id,
      status: JSON.parse(row.status) as WireStatus,
    }));
  }

  /** How many checkpointed tasks are in each state (the agent's metrics). */
  taskCountsByState(): Record<string, number> {
    const rows = this.#db.prepare('SELECT state, COUNT(*) AS count FROM tasks GROUP BY state').all() as {
      state: string;
      count: number;
    }[];
    return Object.fromEntries(rows.map((row) => [row.state, row.count]));
  }

  pendingUpdateCount(): number {
    return (this.#db.prepare('SELECT COUNT(*) AS count FROM status_updates').get() as { count: number }).count;
  }

  /** Tasks to report when re-registering: still running, or with updates the master has not acknowledged. */
  reportableTasks(): { frameworkId: string; taskId: string }[] {
    const rows = this.#db
      .prepare(`SELECT framework_id, task_id FROM tasks WHERE terminal = 0
      OR EXISTS (SELECT 1 FROM status_updates u WHERE u.framework_id = tasks.framework_id AND u.task_id = tasks.task_id)
      ORDER BY framework_id, task_id`)
      .all() as { framework_id: string; task_id: string }[];
    return rows.map((row) => ({ frameworkId: row.framework_id, taskId: row.task_id }));
  }

  liveTasks(): CheckpointedTask[] {
    const rows = this.#db
      .prepare('SELECT * FROM tasks WHERE terminal = 0 ORDER BY changed_sequence')
      .all() as TaskRow[];
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

  taskStates(): { frameworkId: string; taskId: string; state: string; sandbox: string }[] {
    const rows = this.#db
      .prepare('SELECT framework_id, task_id, state, sandbox FROM tasks ORDER BY changed_sequence DESC LIMIT 1000')
      .all() as TaskRow[];
    return rows.map((row) => ({
      frameworkId: row.framework_id,
      taskId: row.task_id,
      state: row.state,
      sandbox: row.sandbox,
    }));
  }

  #pruneTerminalTasks(): void {
    this.#db
      .prepare(`DELETE FROM tasks WHERE terminal = 1 AND changed_sequence <= (
      SELECT changed_sequence FROM tasks WHERE terminal = 1 ORDER BY changed_sequence DESC LIMIT 1 OFFSET ?)
      AND NOT EXISTS (SELECT 1 FROM status_updates u WHERE u.framework_id = tasks.framework_id AND u.task_id = tasks.task_id)`)
      .run(maxTerminalTasksKept);
  }
}
