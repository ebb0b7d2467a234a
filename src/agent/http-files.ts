// LIST_FILES and READ_FILE on task sandboxes (the files themselves: src/agent/sandbox-files.ts).
// A call names a task (`framework_id` + `task_id`, the path then relative to its sandbox) or
// only a `path` relative to <work-dir>/frameworks ("<framework>/tasks/<task>/stdout"). Either way
// the read is access_sandboxes by the user the task runs as (http-access.ts); a path that names
// no task the checkpoint holds (the frameworks folder itself, a pruned task) is judged as ANY user.
import path from 'node:path';
import type { Agent } from './agent.ts';
import { AgentHttpError } from './errors.ts';
import { listFiles, readSandboxFile, SandboxFileError } from './sandbox-files.ts';
import { sandboxPath } from './task-environment.ts';
import { isValidWireId } from '../protocol/agent.ts';
import { type AgentRequestAccess, requireAgentAllowed } from './http-access.ts';

type Call = (body: Record<string, unknown>, caller: AgentRequestAccess) => Promise<unknown>;

interface SandboxTarget {
  readonly root: string;
  readonly requested: string;
  /** The task the read is in, when the call or the path names one. */
  readonly task: { readonly frameworkId: string; readonly taskId: string } | null;
}

/** "<framework>/tasks/<task>/…": the task a path relative to the frameworks folder is in. */
function taskOfPath(requested: string): SandboxTarget['task'] {
  const [frameworkId, tasks, taskId] = requested.split('/');
  if (tasks !== 'tasks' || frameworkId === undefined || taskId === undefined) return null;
  return isValidWireId(frameworkId) && isValidWireId(taskId) ? { frameworkId, taskId } : null;
}

function section(body: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = body[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AgentHttpError('INVALID_BODY', `${name} must be an object`);
  return value as Record<string, unknown>;
}

function rootAndPath(agent: Agent, call: Record<string, unknown>): SandboxTarget {
  const requested = call.path ?? '';
  if (typeof requested !== 'string') throw new AgentHttpError('INVALID_BODY', 'path must be a string');
  const { framework_id: frameworkId, task_id: taskId } = call;
  if (frameworkId === undefined && taskId === undefined)
    return { root: path.join(agent.options.workDir, 'frameworks'), requested, task: taskOfPath(requested) };
  if (
    typeof frameworkId !== 'string' ||
    typeof taskId !== 'string' ||
    !isValidWireId(frameworkId) ||
    !isValidWireId(taskId)
  ) {
    throw new AgentHttpError('INVALID_BODY', 'framework_id and task_id must both be ids');
  }
  return { root: sandboxPath(agent.options.workDir, frameworkId, taskId), requested, task: { frameworkId, taskId } };
}

/** access_sandboxes by the task's user; ANY when no task the checkpoint holds is named. */
function authorizeRead(agent: Agent, caller: AgentRequestAccess, target: SandboxTarget): void {
  const user = target.task === null ? null : agent.checkpoint.taskUser(target.task.frameworkId, target.task.taskId);
  requireAgentAllowed(caller, 'access_sandboxes', user ?? null);
}

function optionalWhole(value: unknown, name: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new AgentHttpError('INVALID_BODY', `${name} must be a whole number`);
  return value;
}

async function translated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SandboxFileError) throw new AgentHttpError(error.code, error.message);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new AgentHttpError('SANDBOX_FILE_NOT_FOUND');
    throw error;
  }
}

export function registerAgentFileCalls(agent: Agent, calls: Map<string, Call>): void {
  calls.set('LIST_FILES', async (body, caller) => {
    const target = rootAndPath(agent, section(body, 'list_files'));
    authorizeRead(agent, caller, target);
    return translated(() => listFiles(target.root, target.requested));
  });
  calls.set('READ_FILE', async (body, caller) => {
    const call = section(body, 'read_file');
    const target = rootAndPath(agent, call);
    authorizeRead(agent, caller, target);
    const { root, requested } = target;
    const offset = optionalWhole(call.offset, 'offset') ?? 0;
    return translated(() => readSandboxFile(root, requested, offset, optionalWhole(call.length, 'length')));
  });
}
