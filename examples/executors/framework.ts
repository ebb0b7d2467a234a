// The example framework's pieces shared by its scheduler (scheduler.ts) and the end-to-end test:
// the ExecutorInfo of its custom executor (executor.ts, run by the agent with this repository's
// tsx) and the TaskInfos it sends there.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Offer } from '../../src/protocol/mesos.ts';
import type { ExecutorInfo, TaskInfo } from '../../src/frameworks/sdk/index.ts';

export const exampleExecutorPath = path.join(path.dirname(fileURLToPath(import.meta.url)), 'executor.ts');
/** tsx's loader by its absolute URL: the executor runs in its sandbox, where no node_modules is. */
const tsxLoader = import.meta.resolve('tsx');

const scalar = (name: string, value: number) => ({ name, type: 'SCALAR' as const, scalar: { value } });

/** The custom executor: one per agent, with its own small share of the agent's resources. */
export function exampleExecutorInfo(executorId: string): ExecutorInfo {
  return {
    executor_id: { value: executorId },
    type: 'CUSTOM',
    name: 'example executor',
    command: { shell: true, value: `exec '${process.execPath}' --import '${tsxLoader}' '${exampleExecutorPath}'` },
    resources: [scalar('cpus', 0.1), scalar('mem', 64)],
  };
}

/** A task for the executor: it works for `workMs` (null: until killed). */
export function exampleTask(offer: Offer, executorId: string, taskId: string, workMs: number | null): TaskInfo {
  return {
    name: taskId,
    task_id: { value: taskId },
    agent_id: offer.agent_id,
    resources: [scalar('cpus', 0.1), scalar('mem', 16)],
    executor: exampleExecutorInfo(executorId),
    data: Buffer.from(JSON.stringify(workMs === null ? {} : { workMs }), 'utf8').toString('base64'),
  };
}
