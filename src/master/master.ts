// One master process: Raft (with the cluster state machine) + the HTTP API on one port, which
// also carries the Raft peer WebSocket (and, later, the agents' one) as upgrades.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildHttpServer } from '../http/server.ts';
import { RaftNode } from '../raft/node.ts';
import type { TimingProfile } from '../raft/timing.ts';
import { type NodeId, nodeId } from '../raft/types.ts';
import { ClusterStateMachine } from '../state-machine/machine.ts';
import { createLogger } from '../util/logger.ts';
import { createMasterFacade } from './facade.ts';
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
  readonly logger?: Logger;
}

export class Master {
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
      id: nodeId(options.id), dataDir: options.dataDir, peers: options.peers, join: options.join,
      secret: options.secret, stateMachine: machine, logger: logger.child({ subsystem: 'raft' }), timing: options.timing,
      core: options.snapshotEntries === undefined ? {} : { snapshotThresholdEntries: options.snapshotEntries },
    });
    let electedAtMs: number | null = null;
    raft.onLeaderChange((status) => {
      electedAtMs = status.role === 'leader' ? Date.now() : null;
      logger.info({ term: status.term, role: status.role, leader: status.leader || null }, status.role === 'leader'
        ? 'this master is now the leader' : `leader is now ${status.leader || 'unknown'}`);
    });
    const metrics = new MasterMetrics(raft, { master: options.id });
    const address = `${options.host}:${options.port}`;
    const facade = createMasterFacade({
      id: options.id, address, zone: options.zone, flags: options.flags, raft,
      state: () => machine.state, metricsText: () => metrics.text(), electedAtMs: () => electedAtMs,
      // The operator SUBSCRIBE stream's source: changes in apply order, on any master.
      onChange: (listener) => machine.subscribe(listener),
    });
    const http = buildHttpServer({ master: facade, logger: logger.child({ subsystem: 'http' }) });
    http.server.on('upgrade', (request, socket, head) => {
      if (!raft.handleUpgrade(request, socket, head)) socket.destroy();
    });
    await http.listen({ host: options.host, port: options.port });
    const promoter = new LearnerPromoter(raft, logger);
    logger.info({ address, peers: options.peers, dataDir: options.dataDir, zone: options.zone }, 'master listening');
    return new Master(options, raft, machine, http, metrics, promoter, logger);
  }

  /** SIGTERM: a leader hands leadership over first, so a rolling restart costs no election. */
  async stop(): Promise<void> {
    this.promoter.stop();
    await this.raft.stop({ transferLeadership: true });
    await this.http.close();
    this.metrics.stop();
    this.logger.info({}, 'master stopped');
  }

  id(): NodeId {
    return this.raft.id;
  }
}
