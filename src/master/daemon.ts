// One master process, composed: Raft (with the cluster state machine), the master's interface
// (core.ts), its leader services under one leadership lifecycle (leadership/lifecycle.ts), and
// the HTTP API on one port, which also carries the Raft peer and agent WebSockets as upgrades.
// This is the one file outside src/http that imports from it: it builds the HTTP server.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AgentId } from '../state-machine/ids.ts';
import { Authorizer } from '../auth/authorizer.ts';
import { CredentialStore } from '../auth/credential-store.ts';
import { warnWhileInsecure } from '../auth/exposure.ts';
import { buildHttpServer } from '../http/server.ts';
import { CpuProfiler } from '../util/cpu-profiler.ts';
import { resourceStatistics } from '../protocol/agent.ts';
import { RaftNode } from '../raft/node.ts';
import { type NodeId, nodeId } from '../raft/types.ts';
import { commandFormatVersion } from '../state-machine/codec.ts';
import { snapshotFormatFor, snapshotFormatVersion } from '../state-machine/snapshot.ts';
import { ClusterStateMachine } from '../state-machine/machine.ts';
import { createLogger } from '../util/logger.ts';
import type { SchedulerEvent } from '../protocol/scheduler.ts';
import type { ExecutorEventSink } from './agent-executors.ts';
import { AgentGateway } from './agent-gateway.ts';
import { AllocationLoop, allocationSettings } from './allocation-loop.ts';
import { type MasterConfig, type MasterOptionValues, reregisterTimeoutMs } from './config.ts';
import { encodeBackup } from './backup/backup-file.ts';
import { createReplicatedMaster } from './core.ts';
import { AgentDrains } from './agent-drains.ts';
import { HistoryLimitsKeeper } from './history-limits.ts';
import { masterListenBacklog } from './limits.ts';
import { buildHostedFrameworks, type HostedFrameworks } from './hosted-frameworks.ts';
import type { MasterCore, ReplicatedMaster } from './interface.ts';
import { LearnerPromoter } from './learner-promoter.ts';
import { LeadershipLifecycle } from './leadership/lifecycle.ts';
import { MasterMetrics } from './metrics/master-metrics.ts';
import { createSchedulerApi } from './scheduler/api.ts';
import { terminalAcknowledgementAgreed } from './scheduler/acknowledgement-rule.ts';
import { lostTaskReturnRule } from './lost-task-return-rule.ts';
import { executorFailureEvent, frameworkMessageEvent } from './scheduler/events.ts';
import { masterHealthProbe } from './zones/health-probe.ts';
import { replicatedZone } from './zones/replicated-zones.ts';
import { ZonePreference } from './zones/zone-preference.ts';
import { ZoneRegistry } from './zones/zone-registry.ts';
import { FrameworkFailover } from './scheduler/framework-failover.ts';
import { SchedulerSessions } from './scheduler/sessions.ts';

export interface MasterEnvironment {
  /** JSON lines to stderr by default (src/util/logger.ts); tests pass a silent one. */
  readonly logger?: Logger;
  /**
   * Which agents the allocator may offer: by default those with an open, registered socket to this
   * leader's agent gateway. Route tests that put agents in the state by proposing `register_agent`
   * (no agent process, no socket) pass `() => true`.
   */
  readonly agentConnected?: (agentId: AgentId) => boolean;
}

/** The master's own leader services, in start order (stopped in reverse); the hosted frameworks follow them. */
interface LeaderServices {
  readonly history: HistoryLimitsKeeper;
  readonly agents: AgentGateway;
  readonly schedulerLogger: Logger;
  readonly sessions: SchedulerSessions;
  readonly failover: FrameworkFailover;
  readonly allocation: AllocationLoop;
  readonly drains: AgentDrains;
  readonly promoter: LearnerPromoter;
  readonly zones: ZoneRegistry;
  readonly zonePreference: ZonePreference;
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
    /** The built-in frameworks this master hosts while it leads (--services, --jobs). */
    readonly frameworks: HostedFrameworks,
    private readonly metrics: MasterMetrics,
    private readonly logger: Logger,
    private readonly stopInsecureWarnings: () => void,
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
    // Built before Raft, whose handshakes say which snapshot format every member reads.
    let raft: RaftNode | null = null;
    const machine = new ClusterStateMachine({
      snapshotFormat: () => snapshotFormatFor(raft === null ? null : raft.membersSnapshotFormat()),
      // Where a sliced write's or restore's time went: its own slices, the loop's other work, the load.
      onSnapshotTimeline: (timeline) => logger.info(timeline, 'snapshot slices'),
    });
    // Built before Raft, whose driver reports to it; it reads Raft and the leadership only when scraped.
    let leadership: LeadershipLifecycle | null = null;
    const metrics = new MasterMetrics({
      id: options.id,
      startedAtMs: Date.now(),
      raftStatus: () => raft!.status(),
      state: () => machine.state,
      leaderServices: () => leadership!.view(),
    });
    raft = startRaft(config, machine, metrics, logger);
    const address = `${options.listen.host}:${options.listen.port}`;
    const replica = createReplicatedMaster({
      id: options.id,
      address,
      zone: options.zone,
      preferredLeaderZones: options.preferredLeaderZones,
      flags: config.flags,
      raft,
      state: () => machine.state,
      // The operator SUBSCRIBE stream's source: changes in apply order, on any master.
      onChange: (listener) => machine.subscribe(listener),
      onProposed: (outcome, durationMs) => metrics.raft.proposed(outcome, durationMs),
    });
    leadership = new LeadershipLifecycle({
      raft,
      // Raft abandons a hand-over after an election timeout, at most 2 × electionTicks ticks.
      handOverTimeoutMs: 2 * config.timing.electionTicks * config.timing.tickMs,
      logger: logger.child({ subsystem: 'leadership' }),
    });
    const lifecycle = leadership;
    const services = buildLeaderServices(config, replica, raft, lifecycle, metrics, logger, environment);
    const core = masterCore(replica, services, leadership, metrics, machine, raft);
    const frameworks = buildHostedFrameworks(config, logger);
    const http = buildHttpServer({
      master: core,
      logger: logger.child({ subsystem: 'http' }),
      metrics: metrics.metrics,
      tls: config.tls,
      frameworks: { services: frameworks.services, jobs: frameworks.jobs },
      rateLimits: config.rateLimits,
      profiler: options.enableProfiling ? new CpuProfiler() : null,
      subscriberLimits: {
        total: options.maxOperatorSubscribers,
        perPrincipal: options.maxOperatorSubscribersPerPrincipal,
      },
      access: {
        credentials: config.auth.credentials === null ? null : new CredentialStore(config.auth.credentials),
        authorizer: new Authorizer(config.auth.acls),
        auditLog: logger.child({ subsystem: 'audit' }),
        clusterSecret: config.secret,
      },
    });
    const node = raft;
    http.server.on('upgrade', (request, socket, head) => {
      if (!services.agents.handleUpgrade(request, socket, head) && !node.handleUpgrade(request, socket, head))
        socket.destroy();
    });
    await http.listen({ host: options.listen.host, port: options.listen.port, backlog: masterListenBacklog });
    void services.zones.warmUp(address); // the first fetch paid now, not in a first leadership
    leadership.begin([
      services.history,
      services.agents,
      services.sessions,
      services.failover,
      services.allocation,
      services.drains,
      services.promoter,
      services.zones,
      services.zonePreference,
      ...frameworks.leaderServices,
    ]);
    logger.info(
      {
        address,
        peers: options.peers,
        dataDir: options.dataDir,
        zone: options.zone,
        services: options.services,
        jobs: options.jobs,
        authentication: config.auth.credentials === null ? 'anonymous' : 'credentials',
        principals: config.auth.credentials?.length ?? 0,
        acls: config.auth.acls === null ? 'none: everything allowed' : options.acls,
        tls: tlsMode(config),
        fingerprint: config.tls?.material.fingerprint ?? null,
        rateLimits: config.rateLimits === null ? 'none' : `${config.rateLimits.principals.size} principals listed`,
      },
      'master listening',
    );
    const stopInsecureWarnings = warnWhileInsecure(config.auth.exposure, logger);
    return new Master(
      config,
      raft,
      machine,
      core,
      http,
      services,
      leadership,
      frameworks,
      metrics,
      logger,
      stopInsecureWarnings,
    );
  }

  /**
   * SIGTERM: the leader services stop first (as on any loss of leadership), then a leader hands
   * leadership over, so a rolling restart costs no election.
   */
  async stop(): Promise<void> {
    this.stopInsecureWarnings();
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

/** How the master's port and its clients speak: plain, TLS, or TLS with client certificates checked. */
function tlsMode(config: MasterConfig): 'off' | 'tls' | 'mutual' {
  if (config.tls === null) return 'off';
  return config.tls.requireClientCert ? 'mutual' : 'tls';
}

function startRaft(
  config: MasterConfig,
  machine: ClusterStateMachine,
  metrics: MasterMetrics,
  logger: Logger,
): RaftNode {
  const options = config.options;
  const raft = RaftNode.start({
    id: nodeId(options.id),
    dataDir: options.dataDir,
    peers: options.peers,
    join: options.join,
    secret: config.secret,
    tls: config.tls,
    stateMachine: machine,
    logger: logger.child({ subsystem: 'raft' }),
    timing: config.timing,
    // Staggered: the three masters of a machine would otherwise write their snapshots at one index,
    // at once, on the same cores (issue 12).
    core: { snapshotThresholdEntries: options.snapshotEntries, staggerSnapshots: true },
    observer: metrics.raft.observer,
    storageWriter: options.raftStorageWriter,
    applicationFormat: commandFormatVersion,
    snapshotFormat: snapshotFormatVersion,
  });
  metrics.raft.begin(raft.status());
  raft.onLeaderChange((status) => {
    metrics.raft.roleChanged(status);
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
  machine: ClusterStateMachine,
  raft: RaftNode,
): MasterCore {
  return {
    ...replica,
    transferLeadership: (to) => leadership.handOver(to === null ? undefined : nodeId(to)),
    allocation: services.allocation,
    scheduler: metrics.messages.metered(
      createSchedulerApi({
        master: replica,
        allocation: services.allocation,
        sessions: services.sessions,
        executors: services.agents,
        logger: services.schedulerLogger,
        leaderServicesRunning: () => leadership.awaitRunning(),
        terminalAcknowledgementAgreed: () => terminalAcknowledgementAgreed(raft.membersApplicationFormat()),
      }),
    ),
    taskStatistics: (agentId, key) => {
      const view = services.agents.usageAt(agentId, key);
      return view === null ? null : resourceStatistics(view.usage);
    },
    inverseOfferStatuses: () => services.sessions.inverseOfferStatuses(),
    metricsText: () => metrics.text(),
    metricsSnapshot: () => metrics.snapshot(),
    leaderServices: () => leadership.view(),
    backup: async () => {
      // Captured now (a consistent view at one applied index), written in slices afterwards.
      const finish = machine.beginSnapshot();
      const appliedIndex = machine.lastAppliedIndex;
      const term = replica.raft().term;
      const snapshot = await finish();
      return encodeBackup({ takenBy: replica.id, takenAtMs: Date.now(), term, appliedIndex }, snapshot);
    },
  };
}

function buildLeaderServices(
  config: MasterConfig,
  replica: ReplicatedMaster,
  raft: RaftNode,
  leadership: LeadershipLifecycle,
  metrics: MasterMetrics,
  logger: Logger,
  environment: MasterEnvironment,
): LeaderServices {
  const options = config.options;
  const history = new HistoryLimitsKeeper(replica, options, logger.child({ subsystem: 'history-limits' }));
  const leaderServicesRunning = () => leadership.awaitRunning();
  const schedulerLogger = logger.child({ subsystem: 'scheduler' });
  const sessions = new SchedulerSessions(replica, schedulerLogger, {
    maxStreams: options.maxSchedulerStreams,
    maxStreamsPerPrincipal: options.maxSchedulerStreamsPerPrincipal,
  });
  const agents = new AgentGateway({
    master: replica,
    leaderServicesRunning,
    zone: options.zone,
    settings: {
      pingIntervalMs: options.agentPingIntervalMs,
      maxMissedPings: options.agentMaxMissedPings,
      reregistrationGraceMs: reregisterTimeoutMs(options),
    },
    secret: config.secret,
    requireClientCert: config.tls?.requireClientCert ?? false,
    maxConnections: options.maxAgentConnections,
    executorEvents: executorEventsTo(sessions, schedulerLogger),
    logger: logger.child({ subsystem: 'agents' }),
    onMessage: (message) => metrics.messages.agentMessage(message),
    lostTaskReturn: () => lostTaskReturnRule(raft.membersApplicationFormat()),
  });
  const failover = new FrameworkFailover(
    replica,
    (frameworkId) => sessions.has(frameworkId),
    logger.child({ subsystem: 'framework-failover' }),
  );
  const allocation = new AllocationLoop({
    master: replica,
    settings: allocationSettings(options),
    logger: logger.child({ subsystem: 'allocator' }),
    observer: metrics.allocation,
    agentConnected: environment.agentConnected ?? ((agentId) => agents.isConnected(agentId)),
  });
  agents.onConnectionChange((agentId, connected) => {
    if (connected) allocation.agentConnected(agentId);
    else allocation.agentDisconnected(agentId);
  });
  const drains = new AgentDrains(replica, logger.child({ subsystem: 'agent-drains' }));
  const promoter = new LearnerPromoter(raft, logger.child({ subsystem: 'learner-promoter' }));
  const zones = new ZoneRegistry({
    master: replica,
    raft,
    zone: options.zone,
    probe: masterHealthProbe(config.tls === null ? null : () => config.tls!.clientOptions()),
    logger: logger.child({ subsystem: 'master-zones' }),
  });
  const zonePreference = new ZonePreference({
    preferred: options.preferredLeaderZones,
    input: () => ({
      status: raft.status(),
      ownZone: options.zone,
      zoneOf: (id) => replicatedZone(replica.state(), id),
      health: zones.health(),
    }),
    handOver: (to) => leadership.handOver(to),
    onHandOver: (target) => metrics.zonePreferenceHandOver(target.zone),
    logger: logger.child({ subsystem: 'zone-preference' }),
  });
  return {
    history,
    agents,
    schedulerLogger,
    sessions,
    failover,
    allocation,
    drains,
    promoter,
    zones,
    zonePreference,
  };
}

/** Executors' messages and exits as scheduler events; best effort: without a stream they are dropped, and logged. */
function executorEventsTo(sessions: SchedulerSessions, logger: Logger): ExecutorEventSink {
  const deliver = (frameworkId: string, event: SchedulerEvent, what: string): void => {
    if (!sessions.has(frameworkId)) {
      logger.info({ frameworkId, event: event.type }, `dropped ${what}: the framework has no scheduler stream`);
      return;
    }
    sessions.send(frameworkId, [event]);
  };
  return {
    frameworkMessage: (frameworkId, agentId, executorId, data) =>
      deliver(frameworkId, frameworkMessageEvent(agentId, executorId, data), 'an executor message'),
    executorGone: (frameworkId, agentId, executorId, status) =>
      deliver(frameworkId, executorFailureEvent(agentId, executorId, status), 'an executor FAILURE'),
  };
}
