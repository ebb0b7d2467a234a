// GET /api/v1/sandbox/read: a task's sandbox file (its stdout, stderr, or another file in its
// sandbox) read through any master, so the web UI (and any client that can reach the masters but
// not the agents) can show a task's output. Mesos' web UI reads the agent's /files/read itself;
// a Flotilla page may only reach the masters (its CSP, routes/ui.ts), so a master reads for it.
//
//   ?framework_id=F&task_id=T[&path=stdout][&offset=N][&length=N]
//   → 200 {"framework_id","task_id","agent_id","path","offset","size","data"}
//
// `data` is base64 of the bytes from `offset` (at most `length`, at most maxSandboxReadBytes);
// `size` is the whole file's size, so a client follows a file by asking again from
// offset + bytes read, and sees that it was truncated when size < offset. The task is looked up
// in this master's applied state (no ReadIndex: a log is not cluster state); the agent confines
// the read to the task's sandbox (src/agent/sandbox-files.ts), and the path is checked here too.
// Authorized here, as Mesos' access_sandboxes, by the user the task runs as (ANY for a task
// without one); the master then reads from the agent as the cluster (the cluster secret), so
// the agent's own ACLs are not asked again for a read this master has allowed.
import type { FastifyInstance } from 'fastify';
import { isValidId, taskKey, type FrameworkId, type TaskId } from '../../state-machine/ids.ts';
import type { Task } from '../../state-machine/state.ts';
import { HttpError } from '../errors.ts';
import type { MasterCore } from '../../master/interface.ts';
import {
  defaultSandboxReadBytes,
  maxConcurrentSandboxReads,
  maxSandboxPathChars,
  maxSandboxReadBytes,
  retryAfterSeconds,
  sandboxReadTimeoutMs,
} from '../limits.ts';
import { readFromAgent } from '../sandbox/agent-read.ts';
import type { TlsIdentity } from '../../util/tls.ts';
import { requireAllowed } from '../access.ts';

export const sandboxReadPath = '/api/v1/sandbox/read';

/** Relative, slash-separated names of ordinary characters: no `..`, no `.`, no empty segment. */
const pathSegmentPattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const wholeNumberPattern = /^\d{1,15}$/;

interface SandboxQuery {
  readonly framework_id?: string;
  readonly task_id?: string;
  readonly path?: string;
  readonly offset?: string;
  readonly length?: string;
}

export interface SandboxRead {
  readonly frameworkId: FrameworkId;
  readonly taskId: TaskId;
  readonly path: string;
  readonly offset: number;
  readonly length: number;
}

function requiredId(value: unknown, name: string): string {
  if (typeof value !== 'string' || !isValidId(value)) {
    throw new HttpError('BAD_REQUEST', `${name} must be an id (letters, digits, . _ : @ + -), got ${String(value)}`);
  }
  return value;
}

function sandboxPath(value: unknown): string {
  if (value === undefined) return 'stdout';
  const valid =
    typeof value === 'string' &&
    value.length <= maxSandboxPathChars &&
    value.split('/').every((segment) => pathSegmentPattern.test(segment));
  if (!valid) {
    throw new HttpError(
      'BAD_REQUEST',
      `path must be relative to the task's sandbox, at most ${maxSandboxPathChars} characters of letters, digits, . _ - and /, without . or .. segments`,
    );
  }
  return value;
}

function wholeNumber(value: unknown, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'string' && wholeNumberPattern.test(value) ? Number(value) : Number.NaN;
  if (!(Number.isSafeInteger(parsed) && parsed <= max)) {
    throw new HttpError('BAD_REQUEST', `${name} must be a whole number from 0 to ${max}, got ${String(value)}`);
  }
  return parsed;
}

/** The query, checked whole before anything is looked up: bad input changes nothing and costs nothing. */
export function parseSandboxQuery(query: SandboxQuery): SandboxRead {
  return {
    frameworkId: requiredId(query.framework_id, 'framework_id') as FrameworkId,
    taskId: requiredId(query.task_id, 'task_id') as TaskId,
    path: sandboxPath(query.path),
    offset: wholeNumber(query.offset, 'offset', 0, Number.MAX_SAFE_INTEGER),
    length: wholeNumber(query.length, 'length', defaultSandboxReadBytes, maxSandboxReadBytes),
  };
}

function agentOf(master: MasterCore, task: Task): { ip: string; port: number } {
  const agent = master.state().agents.get(task.agentId);
  if (agent === undefined)
    throw new HttpError('AGENT_UNAVAILABLE', `task ${task.id}'s agent ${task.agentId} is not known`);
  if (agent.state === 'GONE') throw new HttpError('GONE', `task ${task.id}'s agent ${task.agentId} was marked gone`);
  return agent.address;
}

export function registerSandboxRoutes(
  app: FastifyInstance,
  master: MasterCore,
  clusterSecret: string,
  tls: TlsIdentity | null = null,
): void {
  let inFlight = 0;
  app.get<{ Querystring: SandboxQuery }>(sandboxReadPath, async (request) => {
    const read = parseSandboxQuery(request.query);
    const task = master.state().tasks.get(taskKey(read.frameworkId, read.taskId));
    if (task === undefined) {
      throw new HttpError(
        'NOT_FOUND',
        `framework ${read.frameworkId} has no task ${read.taskId}`,
        {},
        'TASK_NOT_FOUND',
      );
    }
    requireAllowed(request, 'access_sandboxes', task.user);
    const agent = agentOf(master, task);
    if (inFlight >= maxConcurrentSandboxReads) {
      throw new HttpError('TOO_MANY_REQUESTS', `at most ${maxConcurrentSandboxReads} sandbox reads at once`, {
        'retry-after': retryAfterSeconds,
      });
    }
    inFlight += 1;
    try {
      const result = await readFromAgent({
        agent,
        ...read,
        timeoutMs: sandboxReadTimeoutMs,
        clusterSecret,
        tls: tls === null ? null : tls.clientOptions(),
      });
      return {
        framework_id: read.frameworkId,
        task_id: read.taskId,
        agent_id: task.agentId,
        path: read.path,
        offset: read.offset,
        size: result.size,
        data: result.data.toString('base64'),
      };
    } finally {
      inFlight -= 1;
    }
  });
}
