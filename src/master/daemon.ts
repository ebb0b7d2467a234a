// One master process, composed: Raft (with the cluster state machine), the master's interface
// (core.ts), its leader services under one leadership lifecycle (leadership/lifecycle.ts), and
// the HTTP API on one port, which also carries the Raft peer and agent WebSockets as upgrades.
// This is the one file outside src/http that imports from it: it builds the HTTP server.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildHttpServer } from '../http/server.ts';
import { resourceStatistics } from '../protocol/agent.ts';
import { RaftNode } from '../raft/node.ts';
import type { TimingProfile } from '../raft/timing.ts';
import { type NodeId, nodeId } from '../raft/types.ts';
import { ClusterStateMachine } from '../state-machine/machine.ts';
import { createLogger } from '../util/logger.ts';
import { AgentGateway } from './agent-gateway.ts';
import { defaultLivenessSettings, validateLivenessSettings } from './agent-liveness.ts';
import { AllocationLoop, allocationSettings } from './allocation-loop.ts';
import { createReplicatedMaster } from './core.ts';
import type { MasterCore, ReplicatedMaster } from './interface.ts';
import { LearnerPromoter } from './learner-promoter.ts';
import { LeadershipLifecycle } from './leadership/lifecycle.ts';
import { MasterMetrics } from './metrics.ts';
import { createSchedulerApi } from './scheduler/api.ts';
import { FrameworkFailover } from './scheduler/framework-failover.ts';
import { SchedulerSessions } from './scheduler/sessions.ts';

export interface MasterOptions {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Every initial master by id → host:port (self included). */
  readonly peers: Readonly<Record<string, string>>;
  readonly dataDir: string;
  readonly zone: string | null;
  readonly secret: string;
  readonly timing: TimingProfile;
  /** Start as a new, empty member that an operator adds with ADD_MASTER. */
  readonly join: boolean;
  readonly flags: Readonly<Record<string, string>>;
  /** Snapshot and compact every this many applied entries (default 10,000). */
  readonly snapshotEntries?: number;
  /** The leader pings each agent this often (default 5,000 ms). */
  readonly agentPingIntervalMs?: number;
  /** An agent silent for this many ping intervals is marked UNREACHABLE (default 3). */
  readonly agentMaxMissedPings?: number;
  /** A new leader waits this long for agents to re-register before marking any unreachable (default 30,000 ms). */
  readonly agentReregistrationGraceMs?: number;
  /** Allocation triggers within this window share one cycle (default 50 ms). */
  readonly allocationBatchMs?: number;
  /** Outstanding offers older than this are rescinded; 0: never (default 60,000 ms). */
  readonly offerTimeoutMs?: number;
  /** Mesos syntax, e.g. "cpus:0.01|mem:32" (the default). */
  readonly minAllocatableResources?: string;
  readonly logger?: Logger;
}

/** The leader services, in start order (stopped in reverse). */
interface LeaderServices {
  readonly agents: AgentGateway;
  readonly sessions: SchedulerSessions;
  readonly failover: FrameworkFailover;
  readonly allocation: AllocationLoop;
  readonly promoter: LearnerPromoter;
}

export class Master {
  private constructor(
    readonly options: MasterOptions,
    readonly raft: RaftNode,
    readonly machine: ClusterStateMachine,
    /** The master's interface (tests submit commands through it). */
    readonly facade: MasterCore,
    readonly http: FastifyInstance,
    private readonly services: LeaderServices,
    readonly leadership: LeadershipLifecycle,
    private readonly metrics: MasterMetrics,
    private readonly logger: Logger,
  ) {}

  /** The agents' WebSockets; `agents.taskUsage(framework, task)` is the usage they last reported. */
  get agents(): AgentGateway {
    return this.services.agents;
  }

  /** The allocator's driver (runs cycles only while this master leads). */
  get allocation(): AllocationLoop {
    return this.services.allocation;
  }

  /** The scheduler API's sessions on this master (one per subscribed framework, leader only). */
  get scheduler(): SchedulerSessions {
    return this.services.sessions;
  }

  static async start(options: MasterOptions): Promise<Master> {
    const logger = options.logger ?? createLogger({ node: options.id, component: 'master' });
    const machine = new ClusterStateMachine();
    const raft = RaftNode.start({
      id: nodeId(options.id),
      dataDir: options.dataDir,
      peers: options.peers,
      join: options.join,
      secret: options.secret,
      stateMachine: machine,
      logger: logger.child({ subsystem: 'raft' }),
      timing: options.timing,
      core: options.snapshotEntries === undefined ? {} : { snapshotThresholdEntries: options.snapshotEntries },
    });
    raft.onLeaderChange((status) => {
      logger.info(
        { term: status.term, role: status.role, leader: status.leader || null },
        status.role === 'leader' ? 'this master is now the leader' : `leader is now ${status.leader || 'unknown'}`,
      );
    });
    const address = `${options.host}:${options.port}`;
    const replica = createReplicatedMaster({
      id: options.id,
      address,
      zone: options.zone,
      flags: options.flags,
      raft,
      state: () => machine.state,
      // The operator SUBSCRIBE stream's source: changes in apply order, on any master.
      onChange: (listener) => machine.subscribe(listener),
    });
    const leadership = new LeadershipLifecycle({ raft, logger: logger.child({ subsystem: 'leadership' }) });
    const leaderServicesRunning = (): Promise<void> => leadership.awaitRunning();
    const services = buildLeaderServices(options, replica, raft, leaderServicesRunning, logger);
    const metrics = new MasterMetrics(raft, () => leadership.view(), { master: options.id });
    const core: MasterCore = {
      ...replica,
      allocation: services.allocation,
      scheduler: createSchedulerApi({
        master: replica,
        allocation: services.allocation,
        sessions: services.sessions,
        leaderServicesRunning,
      }),
      taskStatistics: (framework, task) => {
        const view = services.agents.taskUsage(framework, task);
        return view === null ? null : resourceStatistics(view.usage);
      },
      inverseOfferStatuses: () => services.sessions.inverseOfferStatuses(),
      metricsText: () => metrics.text(),
      leaderServices: () => leadership.view(),
    };
    const http = buildHttpServer({ master: core, logger: logger.child({ subsystem: 'http' }) });
    http.server.on('upgrade', (request, socket, head) => {
      if (!services.agents.handleUpgrade(request, socket, head) && !raft.handleUpgrade(request, socket, head))
        socket.destroy();
    });
    await http.listen({ host: options.host, port: options.port });
    leadership.begin([services.agents, services.sessions, services.failover, services.allocation, services.promoter]);
    logger.info({ address, peers: options.peers, dataDir: options.dataDir, zone: options.zone }, 'master listening');
    return new Master(options, raft, machine, core, http, services, leadership, metrics, logger);
  }

  /**
   * SIGTERM: the leader services stop first (as on any loss of leadership), then a leader hands
   * leadership over, so a rolling restart costs no election.
   */
  async stop(): Promise<void> {
    this.leadership.shutDown();
    this.services.sessions.close();
    await this.services.agents.close();
    await this.raft.stop({ transferLeadership: true });
    await this.http.close();
    this.metrics.stop();
    this.logger.info({}, 'master stopped');
  }

  id(): NodeId {
    return this.raft.id;
  }
}

function buildLeaderServices(
  options: MasterOptions,
  replica: ReplicatedMaster,
  raft: RaftNode,
  leaderServicesRunning: () => Promise<void>,
  logger: Logger,
): LeaderServices {
  const agentSettings = {
    pingIntervalMs: options.agentPingIntervalMs ?? defaultLivenessSettings.pingIntervalMs,
    maxMissedPings: options.agentMaxMissedPings ?? defaultLivenessSettings.maxMissedPings,
    reregistrationGraceMs: options.agentReregistrationGraceMs ?? defaultLivenessSettings.reregistrationGraceMs,
  };
  validateLivenessSettings(agentSettings);
  const agents = new AgentGateway({
    master: replica,
    leaderServicesRunning,
    zone: options.zone,
    settings: agentSettings,
    secret: options.secret,
    logger: logger.child({ subsystem: 'agents' }),
  });
  const sessions = new SchedulerSessions(replica, logger.child({ subsystem: 'scheduler' }));
  const failover = new FrameworkFailover(
    replica,
    (frameworkId) => sessions.has(frameworkId),
    logger.child({ subsystem: 'framework-failover' }),
  );
  const allocation = new AllocationLoop({
    master: replica,
    settings: allocationSettings({
      allocationBatchMs: options.allocationBatchMs ?? 50,
      offerTimeoutMs: options.offerTimeoutMs ?? 60_000,
      minAllocatableResources: options.minAllocatableResources ?? 'cpus:0.01|mem:32',
    }),
    logger: logger.child({ subsystem: 'allocator' }),
  });
  const promoter = new LearnerPromoter(raft, logger);
  return { agents, sessions, failover, allocation, promoter };
}
