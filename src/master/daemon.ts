// One master process, composed: Raft (with the cluster state machine), the master's interface
// (core.ts), its leader services under one leadership lifecycle (leadership/lifecycle.ts), and
// the HTTP API on one port, which also carries the Raft peer and agent WebSockets as upgrades.
// This is the one file outside src/http that imports from it: it builds the HTTP server.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildHttpServer } from '../http/server.ts';
import { resourceStatistics } from '../protocol/agent.ts';
import { RaftNode } from '../raft/node.ts';
import { type NodeId, nodeId } from '../raft/types.ts';
import { ClusterStateMachine } from '../state-machine/machine.ts';
import { createLogger } from '../util/logger.ts';
import { AgentGateway } from './agent-gateway.ts';
import { AllocationLoop, allocationSettings } from './allocation-loop.ts';
import type { MasterConfig, MasterOptionValues } from './config.ts';
import { createReplicatedMaster } from './core.ts';
import { HistoryLimitsKeeper } from './history-limits.ts';
import type { MasterCore, ReplicatedMaster } from './interface.ts';
import { LearnerPromoter } from './learner-promoter.ts';
import { LeadershipLifecycle } from './leadership/lifecycle.ts';
import { MasterMetrics } from './metrics.ts';
import { createSchedulerApi } from './scheduler/api.ts';
import { FrameworkFailover } from './scheduler/framework-failover.ts';
import { SchedulerSessions } from './scheduler/sessions.ts';

export interface MasterEnvironment {
  /** JSON lines to stderr by default (src/util/logger.ts); tests pass a silent one. */
  readonly logger?: Logger;
}

/** The leader services, in start order (stopped in reverse). */
interface LeaderServices {
  readonly history: HistoryLimitsKeeper;
  readonly agents: AgentGateway;
  readonly sessions: SchedulerSessions;
  readonly failover: FrameworkFailover;
  readonly allocation: AllocationLoop;
  readonly promoter: LearnerPromoter;
}

export class Master {
  private constructor(
    readonly config: MasterConfig,
    readonly raft: RaftNode,
    readonly machine: ClusterStateMachine,
    /** The master's interface, MasterCore (its old name stays here: tests submit commands through it). */
    readonly facade: MasterCore,
    readonly http: FastifyInstance,
    private readonly services: LeaderServices,
    readonly leadership: LeadershipLifecycle,
    private readonly metrics: MasterMetrics,
    private readonly logger: Logger,
  ) {}

  /** Every option of this master, checked (config.ts). */
  get options(): MasterOptionValues {
    return this.config.options;
  }

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

  static async start(config: MasterConfig, environment: MasterEnvironment = {}): Promise<Master> {
    const options = config.options;
    const logger = environment.logger ?? createLogger({ node: options.id, component: 'master' });
    if (options.clusterSecretFile === null) {
      logger.warn(
        {},
        'no --cluster-secret-file: using the development secret; every master must use a real one in production',
      );
    }
    const machine = new ClusterStateMachine();
    const raft = startRaft(config, machine, logger);
    const address = `${options.listen.host}:${options.listen.port}`;
    const replica = createReplicatedMaster({
      id: options.id,
      address,
      zone: options.zone,
      flags: config.flags,
      raft,
      state: () => machine.state,
      // The operator SUBSCRIBE stream's source: changes in apply order, on any master.
      onChange: (listener) => machine.subscribe(listener),
    });
    const leadership = new LeadershipLifecycle({
      raft,
      // Raft abandons a hand-over after an election timeout, at most 2 × electionTicks ticks.
      handOverTimeoutMs: 2 * config.timing.electionTicks * config.timing.tickMs,
      logger: logger.child({ subsystem: 'leadership' }),
    });
    const services = buildLeaderServices(config, replica, raft, () => leadership.awaitRunning(), logger);
    const metrics = new MasterMetrics(raft, () => leadership.view(), { master: options.id });
    const core = masterCore(replica, services, leadership, metrics);
    const http = buildHttpServer({ master: core, logger: logger.child({ subsystem: 'http' }) });
    http.server.on('upgrade', (request, socket, head) => {
      if (!services.agents.handleUpgrade(request, socket, head) && !raft.handleUpgrade(request, socket, head))
        socket.destroy();
    });
    await http.listen({ host: options.listen.host, port: options.listen.port });
    leadership.begin([
      services.history,
      services.agents,
      services.sessions,
      services.failover,
      services.allocation,
      services.promoter,
    ]);
    logger.info({ address, peers: options.peers, dataDir: options.dataDir, zone: options.zone }, 'master listening');
    return new Master(config, raft, machine, core, http, services, leadership, metrics, logger);
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

function startRaft(config: MasterConfig, machine: ClusterStateMachine, logger: Logger): RaftNode {
  const options = config.options;
  const raft = RaftNode.start({
    id: nodeId(options.id),
    dataDir: options.dataDir,
    peers: options.peers,
    join: options.join,
    secret: config.secret,
    stateMachine: machine,
    logger: logger.child({ subsystem: 'raft' }),
    timing: config.timing,
    core: { snapshotThresholdEntries: options.snapshotEntries },
  });
  raft.onLeaderChange((status) => {
    logger.info(
      { term: status.term, role: status.role, leader: status.leader || null },
      status.role === 'leader' ? 'this master is now the leader' : `leader is now ${status.leader || 'unknown'}`,
    );
  });
  return raft;
}

/** The whole interface: the replica, and what the leader services add to it. */
function masterCore(
  replica: ReplicatedMaster,
  services: LeaderServices,
  leadership: LeadershipLifecycle,
  metrics: MasterMetrics,
): MasterCore {
  return {
    ...replica,
    transferLeadership: (to) => leadership.handOver(to === null ? undefined : nodeId(to)),
    allocation: services.allocation,
    scheduler: createSchedulerApi({
      master: replica,
      allocation: services.allocation,
      sessions: services.sessions,
      leaderServicesRunning: () => leadership.awaitRunning(),
    }),
    taskStatistics: (framework, task) => {
      const view = services.agents.taskUsage(framework, task);
      return view === null ? null : resourceStatistics(view.usage);
    },
    inverseOfferStatuses: () => services.sessions.inverseOfferStatuses(),
    metricsText: () => metrics.text(),
    leaderServices: () => leadership.view(),
  };
}

function buildLeaderServices(
  config: MasterConfig,
  replica: ReplicatedMaster,
  raft: RaftNode,
  leaderServicesRunning: () => Promise<void>,
  logger: Logger,
): LeaderServices {
  const options = config.options;
  const history = new HistoryLimitsKeeper(replica, options, logger.child({ subsystem: 'history-limits' }));
  const agents = new AgentGateway({
    master: replica,
    leaderServicesRunning,
    zone: options.zone,
    settings: {
      pingIntervalMs: options.agentPingIntervalMs,
      maxMissedPings: options.agentMaxMissedPings,
      reregistrationGraceMs: options.agentReregistrationGraceMs,
    },
    secret: config.secret,
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
    settings: allocationSettings(options),
    logger: logger.child({ subsystem: 'allocator' }),
  });
  const promoter = new LearnerPromoter(raft, logger.child({ subsystem: 'learner-promoter' }));
  return { history, agents, sessions, failover, allocation, promoter };
}
