// The agent daemon: checkpoint, containerizers, recovery, the link to the leading master, the
// executors (executors/: frameworks', and the agent's own command and task-group executors, all
// through one executor API), usage reports and the agent's own HTTP API. Stopping it (SIGTERM)
// leaves tasks and executors running: a restarted agent recovers them from its checkpoint.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../util/logger.ts';
import type {
  AgentMessageBody,
  MasterMessage,
  WireAgentInfo,
  WireResource,
  WireTaskSpec,
  WireUsage,
  WireVolumeRef,
} from '../protocol/agent.ts';
import { Checkpoint, checkpointFileName } from './checkpoint.ts';
import type { Containerizer, ContainerizerKind, ContainerUsage } from './containerizer/types.ts';
import type { ExecutorSettings, RunHooks } from './executors/host.ts';
import { ExecutorRegistry } from './executors/registry.ts';
import { buildAgentHttp } from './http.ts';
import type { TlsIdentity } from '../util/tls.ts';
import { type AgentHttpAccess, openAgentAccess } from './http-access.ts';
import type { AgentMetrics } from './metrics.ts';
import { MasterLink, type Registered } from './master-link.ts';
import { reconcileVolumes } from './persistent-volumes.ts';
import { recoverTasks } from './recovery.ts';
import { StatusUpdateManager } from './status-updates.ts';
import { containerSpec } from './task-environment.ts';
import { TaskRun, type StartHealthCheck } from './task-run.ts';

export interface AgentOptions {
  readonly masters: readonly string[];
  readonly workDir: string;
  readonly resources: readonly WireResource[];
  readonly attributes: Readonly<Record<string, string>>;
  readonly zone: string | null;
  /** The cluster secret the masters expect from agents. */
  readonly secret: string;
  /** --tls-*: the agent API serves HTTPS, masters are dialed over wss://, executors get the CA. */
  readonly tls?: TlsIdentity | null;
  readonly hostname: string;
  readonly listenHost: string;
  readonly listenPort: number;
  readonly containerizers: ReadonlyMap<ContainerizerKind, Containerizer>;
  readonly startHealthCheck: StartHealthCheck;
  /** Used when a task gives no killGracePeriodMs (Mesos: 3 s). */
  readonly defaultKillGracePeriodMs: number;
  /** Mesos --switch_user: tasks run as their user when the agent is root. Off: as the agent's user. */
  readonly switchUser: boolean;
  /** Off (--no-root-tasks): a task that would run as uid 0 fails at launch. */
  readonly allowRootTasks: boolean;
  /** How often running tasks' usage is sampled and sent to the master. */
  readonly usageIntervalMs: number;
  readonly executors: ExecutorSettings;
  /** GET_FLAGS: the agent's options as the daemon was given them (config.ts); none when built in code. */
  readonly flags?: Readonly<Record<string, string>>;
  /** Who may use the agent's HTTP API (--credentials, --acls); default: anonymous, everything allowed. */
  readonly access?: AgentHttpAccess;
  /** Served at /metrics and /metrics/snapshot (the daemon builds it); none when built in code. */
  readonly metrics?: AgentMetrics;
  readonly logger: Logger;
}

/** TASK_STARTING progress (an image pull): at most one update per this long, as each is replicated. */
const progressIntervalMs = 5_000;

export interface TaskUsageSample {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly usage: ContainerUsage;
}

export class Agent {
  readonly runs = new Map<string, TaskRun>();
  readonly checkpoint: Checkpoint;
  readonly updates: StatusUpdateManager;
  readonly link: MasterLink;
  readonly executors: ExecutorRegistry;
  http: FastifyInstance | null = null;
  #usageTimer: NodeJS.Timeout | null = null;
  #agentId: string | null;

  private constructor(readonly options: AgentOptions) {
    mkdirSync(options.workDir, { recursive: true });
    this.checkpoint = Checkpoint.open(path.join(options.workDir, checkpointFileName));
    this.#agentId = this.checkpoint.agentId();
    this.updates = new StatusUpdateManager(
      this.checkpoint,
      (frameworkId, taskId, status) => this.link.send({ type: 'status_update', frameworkId, taskId, status }),
      options.logger,
    );
    this.link = new MasterLink({
      masters: options.masters,
      zone: options.zone,
      secret: options.secret,
      tls: options.tls ?? null,
      logger: options.logger,
      registration: () => ({
        type: 'register',
        agentId: this.#agentId,
        info: this.info(),
        tasks: this.checkpoint.reportableTasks(),
        executors: this.executors.liveExecutors(),
      }),
      onRegistered: (message) => this.#onRegistered(message),
      onMessage: (message) => this.#onMessage(message),
      onDisconnected: () => undefined,
      onFatal: (code, message) => {
        options.logger.fatal({ code, problem: message }, 'the master refuses this agent for good; stopping');
        process.exitCode = 3;
        void this.stop();
      },
    });
    this.executors = new ExecutorRegistry({
      checkpoint: this.checkpoint,
      updates: this.updates,
      containerizers: options.containerizers,
      workDir: options.workDir,
      endpoint: `${options.listenHost}:${options.listenPort}`,
      tlsCaFile: options.tls?.files.caFile ?? null,
      settings: options.executors,
      userPolicy: this.#userPolicy(),
      logger: options.logger,
      agentId: () => this.#agentId,
      agentInfo: () => this.info(),
      sendToMaster: (body: AgentMessageBody) => this.link.send(body),
      newRun: (frameworkId, spec, sandbox, hooks) => this.newRun(frameworkId, spec, sandbox, hooks),
    });
    options.metrics?.bind({
      registered: () => this.link.isRegistered(),
      taskCountsByState: () => this.checkpoint.taskCountsByState(),
      pendingStatusUpdates: () => this.checkpoint.pendingUpdateCount(),
      liveTasks: () => this.runs.size,
      totalResources: () => options.resources,
      usedResources: () => [...this.runs.values()].flatMap((run) => run.spec.resources),
    });
  }

  #userPolicy() {
    return {
      switchUser: this.options.switchUser,
      allowRootTasks: this.options.allowRootTasks,
      agentUid: process.getuid?.() ?? -1,
    };
  }

  /** Opens the checkpoint (CheckpointError if corrupted), recovers tasks, serves HTTP, dials the masters. */
  static async start(options: AgentOptions): Promise<Agent> {
    const agent = new Agent(options);
    try {
      await recoverTasks(agent);
      agent.http = buildAgentHttp(agent, options.access ?? openAgentAccess);
      await agent.http.listen({ host: options.listenHost, port: options.listenPort });
    } catch (error) {
      await agent.stop();
      throw error;
    }
    agent.link.start();
    agent.executors.start();
    agent.#usageTimer = setInterval(() => void agent.#reportUsage(), options.usageIntervalMs);
    options.logger.info(
      {
        agentId: agent.#agentId,
        workDir: options.workDir,
        masters: options.masters,
        listen: `${options.listenHost}:${options.listenPort}`,
        containerizers: [...options.containerizers.keys()],
        switchUser: options.switchUser,
        allowRootTasks: options.allowRootTasks,
        recovered: agent.runs.size,
      },
      'agent started',
    );
    return agent;
  }

  agentId(): string | null {
    return this.#agentId;
  }

  info(): WireAgentInfo {
    const options = this.options;
    return {
      hostname: options.hostname,
      address: { ip: options.listenHost, port: options.listenPort },
      zone: options.zone,
      resources: options.resources,
      attributes: options.attributes,
    };
  }

  /** Leaves tasks running; closes the link, HTTP and the checkpoint. */
  async stop(): Promise<void> {
    if (this.#usageTimer !== null) clearInterval(this.#usageTimer);
    this.executors.stop();
    this.link.stop();
    this.updates.stop();
    await this.http?.close();
    this.checkpoint.close();
    this.options.logger.info(
      { agentId: this.#agentId, running: this.runs.size },
      'agent stopped; its tasks keep running',
    );
  }

  /** One task's container run, for the built-in executors (executors/builtin-executor.ts). */
  newRun(frameworkId: string, spec: WireTaskSpec, sandbox: string, hooks: RunHooks): TaskRun {
    const run = new TaskRun(
      frameworkId,
      spec,
      sandbox,
      containerSpec(this.#agentId ?? '', frameworkId, spec, sandbox, this.options.workDir),
      {
        checkpoint: this.checkpoint,
        report: hooks.report,
        containerizers: this.options.containerizers,
        startHealthCheck: this.options.startHealthCheck,
        defaultKillGracePeriodMs: this.options.defaultKillGracePeriodMs,
        userPolicy: this.#userPolicy(),
        progressIntervalMs,
        logger: this.options.logger,
        onEnded: (ended, state) => {
          this.runs.delete(ended.key);
          hooks.onEnded(ended, state);
        },
      },
    );
    this.runs.set(run.key, run);
    return run;
  }

  #onRegistered(message: Registered): void {
    if (this.#agentId !== message.agentId) {
      this.checkpoint.setAgentId(message.agentId);
      this.#agentId = message.agentId;
    }
    this.options.logger.info(
      { agentId: message.agentId, master: message.master.address },
      'registered with the leader',
    );
    this.updates.resendAll();
    this.executors.reportExited();
  }

  #onMessage(message: MasterMessage): void {
    switch (message.type) {
      case 'launch':
        this.#launch(message);
        return;
      case 'launch_group':
        if (this.#agentId === null) return;
        this.options.logger.info(
          {
            framework: message.frameworkId,
            executor: message.executor.id,
            tasks: message.tasks.map((task) => task.id),
          },
          'launching a task group',
        );
        this.executors.launchGroup(message.frameworkId, message.executor, message.framework, message.tasks);
        return;
      case 'kill':
        this.#kill(message.frameworkId, message.taskId, message.message, message.maxGracePeriodMs);
        return;
      case 'shutdown_executor':
        this.executors.shutdown(message.frameworkId, message.executorId);
        return;
      case 'framework_message':
        this.executors.frameworkMessage(message.frameworkId, message.executorId, message.data);
        return;
      case 'status_ack':
        this.updates.acknowledge(message.frameworkId, message.taskId, message.uuid);
        this.executors.reportExited();
        return;
      case 'volumes':
        this.#reconcileVolumes(message.volumes);
        return;
      case 'error':
        this.options.logger.warn({ code: message.code, problem: message.message }, 'the master reported an error');
        return;
      default:
        this.options.logger.warn({ type: message.type }, 'unexpected message from the master');
    }
  }

  #launch(message: Extract<MasterMessage, { type: 'launch' }>): void {
    const { frameworkId, task: spec } = message;
    // A launch can arrive twice (a new leader applying the same entry): never start a task twice.
    if (this.checkpoint.hasTask(frameworkId, spec.id)) {
      this.options.logger.info({ framework: frameworkId, task: spec.id }, 'launch of a task already known: ignored');
      return;
    }
    if (this.#agentId === null) return;
    this.options.logger.info(
      { framework: frameworkId, task: spec.id, executor: message.executor?.id ?? null },
      'launching task',
    );
    this.executors.launchTask(frameworkId, spec, message.executor, message.framework);
  }

  #reconcileVolumes(volumes: readonly WireVolumeRef[]): void {
    try {
      const deleted = reconcileVolumes(this.options.workDir, volumes);
      for (const folder of deleted) this.options.logger.info({ folder }, 'persistent volume destroyed: data deleted');
    } catch (error) {
      this.options.logger.error({ problem: (error as Error).message }, 'could not reconcile persistent volumes');
    }
  }

  #kill(frameworkId: string, taskId: string, message: string, maxGracePeriodMs: number | null): void {
    if (!this.executors.killTask(frameworkId, taskId, maxGracePeriodMs)) {
      this.options.logger.info(
        { framework: frameworkId, task: taskId, why: message },
        'kill of a task not running here: nothing to do',
      );
      return;
    }
    this.options.logger.info({ framework: frameworkId, task: taskId, why: message, maxGracePeriodMs }, 'killing task');
  }

  async usageSamples(): Promise<TaskUsageSample[]> {
    const samples = await Promise.all(
      [...this.runs.values()].map(async (run) => {
        const usage = (await run.container?.usage().catch(() => null)) ?? null;
        return usage === null ? null : { frameworkId: run.frameworkId, taskId: run.taskId, usage };
      }),
    );
    return samples.filter((sample): sample is TaskUsageSample => sample !== null);
  }

  async #reportUsage(): Promise<void> {
    if (!this.link.isRegistered() || this.runs.size === 0) return;
    const samples = await this.usageSamples();
    const tasks = samples.map((sample) => ({
      frameworkId: sample.frameworkId,
      taskId: sample.taskId,
      usage: sample.usage satisfies WireUsage,
    }));
    this.link.send({ type: 'usage', tasks });
  }
}
