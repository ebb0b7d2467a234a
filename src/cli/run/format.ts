// How `flotilla run` prints a task's state changes: one line each, time first, so the output
// reads like a log and sorts by time.
import type { TaskStatus } from '../../protocol/mesos.ts';

/** `2026-11-28T18:50:01.123Z TASK_FAILED reason=REASON_COMMAND_EXECUTOR_FAILED message="exited with status 3"` */
export function formatStatusLine(status: TaskStatus, nowMs: number = Date.now()): string {
  const timeMs =
    typeof status.timestamp === 'number' && Number.isFinite(status.timestamp) ? status.timestamp * 1000 : nowMs;
  const parts = [new Date(timeMs).toISOString(), status.state];
  if (status.reason !== undefined) parts.push(`reason=${status.reason}`);
  if (status.message !== undefined && status.message !== '') parts.push(`message=${JSON.stringify(status.message)}`);
  if (status.healthy !== undefined) parts.push(`healthy=${status.healthy}`);
  return parts.join(' ');
}
