// One master process: Raft (with the cluster state machine) + the HTTP API on one port, which
// also carries the Raft peer WebSocket (and, later, the agents' one) as upgrades.
import type { FastifyInstance } from 'fastify';
import type { MasterFacade } from '../http/facade.ts';
import type { Logger } from 'pino';
import { resourceStatistics } from '../protocol/agent.ts';
import { SchedulerConnections } from '../http/scheduler/connections.ts';
import { buildHttpServer } from '../http/server.ts';
import { RaftNode } from '../raft/node.ts';
import type { TimingProfile } from '../raft/timing.ts';
import { type NodeId, nodeId } from '../raft/types.ts';
import { ClusterStateMachine } from '../state-machine/machine.ts';
import { createLogger } from '../util/logger.ts';
import { AllocationLoop, allocationSettings } from './allocation-loop.ts';
import { AgentGateway } from './agent-gateway.ts';
import { defaultLivenessSettings, validateLivenessSettings } from './agent-liveness.ts';
import { createMasterFacade } from './facade.ts';
import { FrameworkFailover } from './framework-failover.ts';
import { LearnerPromoter } from './learner-promoter.ts';
import { MasterMetrics } from './metrics.ts';

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

export class Master {
  /** What the HTTP layer sees (tests submit commands through it). */
  facade!: MasterFacade;
  /** The agents' WebSockets; `agents.taskUsage(framework, task)` is the usage they last reported. */
  agents!: AgentGateway;
  /** The allocator's driver (runs cycles only while this master leads). */
  allocation!: AllocationLoop;
  /** The scheduler API's streams on this master (one per subscribed framework, leader only). */
  scheduler!: SchedulerConnections;

  private constructor(
    readonly options: MasterOptions,
    readonly raft: RaftNode,
    readonly machine: ClusterStateMachine,
    readonly http: FastifyInstance,
    private readonly metrics: MasterMetrics,
    private readonly promoter: LearnerPromoter,
    private readonly logger: Logger,
  ) {}

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
    let electedAtMs: number | null = null;
    raft.onLeaderChange((status) => {
      electedAtMs = status.role === 'leader' ? Date.now() : null;
      logger.info(
        { term: status.term, role: status.role, leader: status.leader || null },
        status.role === 'leader' ? 'this master is now the leader' : `leader is now ${status.leader || 'unknown'}`,
      );
    });
    const metrics = new MasterMetrics(raft, { master: options.id });
    const address = `${options.host}:${options.port}`;
    const allocation = new AllocationLoop({
      state: () => machine.state,
      onChange: (listener) => machine.subscribe(listener),
      // `facade` is assigned below; the loop calls these only after start() returns.
      submit: (command) => facade.submit(command),
      linearizableRead: () => facade.linearizableRead(),
      leaderTerm: () => (raft.status().role === 'leader' ? raft.status().term : null),
      onLeaderChange: (listener) => raft.onLeaderChange(() => listener()),
      settings: allocationSettings(options),
      logger: logger.child({ subsystem: 'allocator' }),
    });
    const facade = createMasterFacade({
      allocation,
      id: options.id,
      address,
      zone: options.zone,
      flags: options.flags,
      raft,
      state: () => machine.state,
      metricsText: () => metrics.text(),
      electedAtMs: () => electedAtMs,
      // The operator SUBSCRIBE stream's source: changes in apply order, on any master.
      onChange: (listener) => machine.subscribe(listener),
      // `agents` is assigned below; GET_TASKS runs only once the server listens.
      taskStatistics: (framework, task) => {
        const view = agents.taskUsage(framework, task);
        return view === null ? null : resourceStatistics(view.usage);
      },
      // `scheduler` is assigned below; GET_MAINTENANCE_STATUS runs only once the server listens.
      inverseOfferStatuses: () => scheduler.inverseOfferStatuses(),
    });
    const scheduler = new SchedulerConnections(facade, { logger: logger.child({ subsystem: 'scheduler' }) });
    const http = buildHttpServer({ master: facade, logger: logger.child({ subsystem: 'http' }), scheduler });
    const failover = new FrameworkFailover(
      facade,
      (frameworkId) => scheduler.has(frameworkId),
      logger.child({ subsystem: 'framework-failover' }),
    );
    http.addHook('onClose', async () => failover.stop());
    const agentSettings = {
      pingIntervalMs: options.agentPingIntervalMs ?? defaultLivenessSettings.pingIntervalMs,
      maxMissedPings: options.agentMaxMissedPings ?? defaultLivenessSettings.maxMissedPings,
      reregistrationGraceMs: options.agentReregistrationGraceMs ?? defaultLivenessSettings.reregistrationGraceMs,
    };
    validateLivenessSettings(agentSettings);
    const agents = new AgentGateway({
      master: facade,
      zone: options.zone,
      settings: agentSettings,
      secret: options.secret,
      logger: logger.child({ subsystem: 'agents' }),
      onLeadership: (listener) => raft.onLeaderChange((status) => listener(status.role === 'leader')),
    });
    http.server.on('upgrade', (request, socket, head) => {
      if (!agents.handleUpgrade(request, socket, head) && !raft.handleUpgrade(request, socket, head)) socket.destroy();
    });
    await http.listen({ host: options.host, port: options.port });
    const promoter = new LearnerPromoter(raft, logger);
    logger.info({ address, peers: options.peers, dataDir: options.dataDir, zone: options.zone }, 'master listening');
    const master = new Master(options, raft, machine, http, metrics, promoter, logger);
    master.facade = facade;
    master.agents = agents;
    master.allocation = allocation;
    master.scheduler = scheduler;
    return master;
  }

  /** SIGTERM: a leader hands leadership over first, so a rolling restart costs no election. */
  async stop(): Promise<void> {
    this.promoter.stop();
    this.allocation.stop();
    await this.agents.stop();
    await this.raft.stop({ transferLeadership: true });
    await this.http.close();
    this.metrics.stop();
    this.logger.info({}, 'master stopped');
  }

  id(): NodeId {
    return this.raft.id;
  }
}
