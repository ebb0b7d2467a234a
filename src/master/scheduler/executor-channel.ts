// What the scheduler calls SHUTDOWN and MESSAGE need of the agent gateway: to reach an
// executor through its agent. Both are best effort, as in Mesos (master.cpp `shutdown` and
// `message` drop the call when the agent is not connected, and answer 202 all the same).
import type { ExecutorTarget } from '../agent-executors.ts';

export interface ExecutorChannel {
  /** Scheduler MESSAGE (data base64); false when it was dropped (the gateway logs why). */
  sendFrameworkMessage(target: ExecutorTarget, data: string): boolean;
  /** Scheduler SHUTDOWN; false when it was dropped. */
  shutdownExecutor(target: ExecutorTarget): boolean;
}
