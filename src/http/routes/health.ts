// GET /health on any master, for load balancers and scripts (DESIGN.md "HTTP").
import type { FastifyInstance } from 'fastify';
import type { MasterCore } from '../../master/interface.ts';

export function registerHealthRoutes(app: FastifyInstance, master: MasterCore): void {
  app.get('/health', async () => {
    const raft = master.raft();
    return {
      ok: true,
      id: raft.id,
      zone: raft.zone,
      role: raft.role,
      term: raft.term,
      leader: raft.leaderAddress,
      commitIndex: raft.commitIndex,
      appliedIndex: raft.appliedIndex,
    };
  });
}
