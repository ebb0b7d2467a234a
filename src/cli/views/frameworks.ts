// Frameworks as `flotilla frameworks` shows them, from GET_FRAMEWORKS (and GET_TASKS for counts).
import type * as Mesos from '../../protocol/mesos.ts';
import type * as Operator from '../../protocol/operator.ts';
import { isoNanoseconds, scalarTotals } from '../output/format.ts';
import { isTerminal } from './tasks.ts';

export type FrameworkState = 'CONNECTED' | 'DISCONNECTED' | 'COMPLETED';

export interface FrameworkRow {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly state: FrameworkState;
  readonly principal: string | null;
  readonly failover_timeout_seconds: number;
  readonly allocated: Readonly<Record<string, number>>;
  readonly offers: number;
  readonly active_tasks: number;
  readonly registered: string | null;
}

export function frameworkState(framework: Operator.Framework, completed: boolean): FrameworkState {
  if (completed) return 'COMPLETED';
  return framework.connected ? 'CONNECTED' : 'DISCONNECTED';
}

function roles(info: Mesos.FrameworkInfo): string[] {
  if (info.roles !== undefined && info.roles.length > 0) return [...info.roles];
  return [info.role ?? '*'];
}

export function frameworkRows(
  answer: Operator.GetFrameworks,
  tasks: readonly Mesos.Task[],
  includeCompleted: boolean,
): FrameworkRow[] {
  const activeTasks = new Map<string, number>();
  for (const task of tasks) {
    if (isTerminal(task.state)) continue;
    activeTasks.set(task.framework_id.value, (activeTasks.get(task.framework_id.value) ?? 0) + 1);
  }
  const row = (framework: Operator.Framework, completed: boolean): FrameworkRow => {
    const info = framework.framework_info;
    return {
      id: info.id.value,
      name: info.name,
      roles: roles(info),
      state: frameworkState(framework, completed),
      principal: info.principal ?? null,
      failover_timeout_seconds: info.failover_timeout,
      allocated: scalarTotals(framework.allocated_resources),
      offers: (framework.offers ?? []).length,
      active_tasks: activeTasks.get(info.id.value) ?? 0,
      registered: isoNanoseconds(framework.registered_time),
    };
  };
  return [
    ...(answer.frameworks ?? []).map((framework) => row(framework, false)),
    ...(includeCompleted ? (answer.completed_frameworks ?? []).map((framework) => row(framework, true)) : []),
  ];
}
