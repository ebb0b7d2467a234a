// `flotilla logs TASK [--stderr] [--follow]`: a task's stdout (or stderr) from its sandbox,
// read through its agent's files API (READ_FILE with offset and length, as Mesos' agent API
// pages a file). --follow polls from the last offset, like `tail -f`, until the task has
// ended and the file is drained.
import type { ClientTls } from '../../protocol/tls-client.ts';
import { maxReadsPerDrain } from '../limits.ts';
import { maxReadBytes } from '../../frameworks/sdk/limits.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { readAgentFile, sandboxFilePath } from '../../frameworks/sdk/agent-files.ts';
import { SchedulerError } from '../../frameworks/sdk/errors.ts';
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import { postJson } from '../../frameworks/sdk/transport.ts';
import { CliError } from '../client/errors.ts';
import { findAgentAddress, findTask } from '../client/task-lookup.ts';
import { isTerminal } from '../views/tasks.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

export const followPollIntervalMs = 500;
const agentStateTimeoutMs = 5_000;

interface LogsFlags extends ClusterFlags {
  readonly stderr?: boolean;
  readonly follow?: boolean;
  readonly framework?: string;
}

type FileName = 'stdout' | 'stderr';

export const registerLogsCommand: CommandRegistration = (program: Command) => {
  withClusterFlags(
    program
      .command('logs')
      .description("a task's stdout (or --stderr), read from its sandbox through its agent")
      .argument('<task>', 'the task id')
      .option('--stderr', 'stderr instead of stdout')
      .option('-f, --follow', 'keep printing what the task writes until it has ended')
      .option('--framework <id>', 'the framework of the task, when several use the same task id'),
  ).action(clusterAction('logs', logs));
};

interface Sandbox {
  readonly agent: MasterAddress;
  /** The CLI's Authorization, for an agent with --credentials (the same principals as the masters'). */
  readonly headers: Readonly<Record<string, string>>;
  /** An agent with --tls-* (the masters' CA, --tls-ca): HTTPS; null: plain HTTP. */
  readonly tls: ClientTls | null;
  readonly frameworkId: string;
  readonly taskId: string;
  readonly file: FileName;
}

async function logs(context: CommandContext, args: readonly unknown[], flags: LogsFlags): Promise<number> {
  const taskId = args[0] as string;
  const found = await findTask(context.client, taskId, flags.framework ?? null);
  const sandbox: Sandbox = {
    agent: await findAgentAddress(context.client, found.task.agent_id.value),
    headers: context.client.credentialHeaders,
    tls: context.client.tls,
    frameworkId: found.frameworkId,
    taskId,
    file: flags.stderr === true ? 'stderr' : 'stdout',
  };
  const write = (data: Buffer, offset: number): void => {
    if (!context.json) process.stdout.write(data);
    else
      process.stdout.write(
        `${JSON.stringify({ task_id: taskId, file: sandbox.file, offset, data: data.toString('utf8') })}\n`,
      );
  };
  let offset = await drain(sandbox, 0, write, flags.follow !== true || isTerminal(found.task.state));
  if (flags.follow !== true) return 0;
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  while (!stop.signal.aborted) {
    const ended = await taskEnded(sandbox);
    offset = await drain(sandbox, offset, write, false);
    if (ended) {
      // One more read after the end was seen: output written just before it is not lost.
      await drain(sandbox, offset, write, false);
      return 0;
    }
    await sleep(followPollIntervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
  }
  return 0;
}

/** Reads from `offset` until the end of the file; returns the new offset. */
async function drain(
  sandbox: Sandbox,
  start: number,
  write: (data: Buffer, offset: number) => void,
  missingIsError: boolean,
): Promise<number> {
  let offset = start;
  for (let read = 0; read < maxReadsPerDrain; read++) {
    let data: Buffer;
    try {
      data = (
        await readAgentFile(
          sandbox.agent,
          sandboxFilePath(sandbox.frameworkId, sandbox.taskId, sandbox.file),
          offset,
          maxReadBytes,
          sandbox.headers,
          sandbox.tls,
        )
      ).data;
    } catch (error) {
      if (error instanceof SchedulerError && error.status === 404) {
        if (!missingIsError) return offset;
        throw new CliError(
          'NOT_FOUND',
          `agent ${sandbox.agent} has no ${sandbox.file} for task ${sandbox.taskId}`,
          'the task may not have started yet (try --follow), or its sandbox was removed',
        );
      }
      throw agentError(sandbox, error as Error);
    }
    if (data.byteLength === 0) return offset;
    write(data, offset);
    offset += data.byteLength;
  }
  return offset;
}

/** Whether the agent says the task has ended (or no longer knows it). */
async function taskEnded(sandbox: Sandbox): Promise<boolean> {
  let body: { get_state?: { tasks?: { framework_id: string; task_id: string; state: string }[] } };
  try {
    const answer = await postJson(
      sandbox.agent,
      { type: 'GET_STATE' },
      { path: '/api/v1', timeoutMs: agentStateTimeoutMs, headers: sandbox.headers, tls: sandbox.tls },
    );
    if (answer.status !== 200) throw new Error(`GET_STATE answered ${answer.status}`);
    body = JSON.parse(answer.body) as typeof body;
  } catch (error) {
    throw agentError(sandbox, error as Error);
  }
  const task = (body.get_state?.tasks ?? []).find(
    (candidate) => candidate.framework_id === sandbox.frameworkId && candidate.task_id === sandbox.taskId,
  );
  return task === undefined || isTerminal(task.state);
}

function agentError(sandbox: Sandbox, error: Error): CliError {
  return new CliError(
    'AGENT_UNREACHABLE',
    `cannot read task ${sandbox.taskId}'s ${sandbox.file} from agent ${sandbox.agent}: ${error.message}`,
    'is the agent running and reachable from here? `flotilla agents` shows its address',
  );
}
