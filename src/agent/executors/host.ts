// What the executors need of the agent that hosts them, and their settings (the agent's flags).
import type { AgentMessageBody, WireAgentInfo, WireTaskSpec } from '../../protocol/agent.ts';
import type { Logger } from '../../util/logger.ts';
import type { Checkpoint } from '../checkpoint.ts';
import type { Containerizer, ContainerizerKind } from '../containerizer/types.ts';
import type { StatusUpdateManager } from '../status-updates.ts';
import type { StatusReporter, TaskRun } from '../task-run.ts';
import type { UserPolicy } from '../task-user.ts';

export interface ExecutorSettings {
  /** A framework's executor must SUBSCRIBE this long after it started (Mesos --executor_registration_timeout). */
  readonly registrationTimeoutMs: number;
  /** A disconnected executor (or one recovered after an agent restart) must SUBSCRIBE again within this (MESOS_RECOVERY_TIMEOUT). */
  readonly recoveryTimeoutMs: number;
  /** MESOS_SUBSCRIPTION_BACKOFF_MAX: the longest an executor should wait between two subscription attempts. */
  readonly subscriptionBackoffMaxMs: number;
  /** SHUTDOWN, then this long before the agent kills the executor, unless its ExecutorInfo sets its own. */
  readonly shutdownGracePeriodMs: number;
  /** A framework's executor with no task left is shut down after this long. */
  readonly idleTimeoutMs: number;
  /** HEARTBEAT events on executors' HTTP streams, this often. */
  readonly heartbeatIntervalMs: number;
}

export interface RunHooks {
  readonly report: StatusReporter;
  readonly onEnded: (run: TaskRun, state: string) => void;
}

export interface ExecutorHost {
  readonly checkpoint: Checkpoint;
  readonly updates: StatusUpdateManager;
  readonly containerizers: ReadonlyMap<ContainerizerKind, Containerizer>;
  readonly workDir: string;
  /** host:port of the agent's HTTP API (MESOS_AGENT_ENDPOINT). */
  readonly endpoint: string;
  /** The agent's --tls-ca when its API speaks HTTPS (LIBPROCESS_SSL_CA_FILE for executors); null: plain HTTP. */
  readonly tlsCaFile: string | null;
  readonly settings: ExecutorSettings;
  /** Who a framework's executor may run as (--switch-user, --no-root-tasks), as its tasks. */
  readonly userPolicy: UserPolicy;
  readonly logger: Logger;
  agentId(): string | null;
  agentInfo(): WireAgentInfo;
  /** Best effort: false when the agent is not registered with a leader. */
  sendToMaster(body: AgentMessageBody): boolean;
  /** One task's container run for a built-in executor; the agent keeps it for usage reports. */
  newRun(frameworkId: string, spec: WireTaskSpec, sandbox: string, hooks: RunHooks): TaskRun;
}
