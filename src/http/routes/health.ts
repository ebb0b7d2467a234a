// GET /health on any master, for load balancers and scripts (DESIGN.md "HTTP"). Public: a load
// balancer has no credentials, and the web UI finds the leader through it before anyone logs in.
// It says only what any peer could see: roles, term, indexes, the leader's address.
import type { FastifyInstance } from 'fastify';
import type { MasterCore } from '../../master/interface.ts';

export function registerHealthRoutes(app: FastifyInstance, master: MasterCore): void {
  app.get('/health', { config: { public: true } }, async () => {
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
