// Metronome's REST API (/v1/jobs*, and v0's /v0/scheduled-jobs) on this master's port: the jobs framework's own routes
// (src/frameworks/jobs/api/metronome-routes.ts), behind the gate that forwards to the leader,
// which runs the framework (../framework-gate.ts). With --jobs=off every route answers 404 with
// code JOBS_NOT_HOSTED, saying how to run the framework as its own process.
import type { FastifyInstance } from 'fastify';
import { registerMetronomeRoutes } from '../../frameworks/jobs/api/metronome-routes.ts';
import { JobsError } from '../../frameworks/jobs/errors.ts';
import type { JobsApi } from '../../frameworks/jobs/jobs-service.ts';
import type { MasterCore } from '../../master/interface.ts';
import { frameworkGate } from '../framework-gate.ts';
import type { TlsIdentity } from '../../util/tls.ts';

export function registerMetronomeApi(
  app: FastifyInstance,
  master: MasterCore,
  jobs: JobsApi | null,
  options: { readonly ping: boolean },
  tls: TlsIdentity | null = null,
): void {
  void app.register(async (scope) => {
    scope.addHook(
      'onRequest',
      frameworkGate(master, {
        tls,
        hosted: jobs !== null,
        // Its /ping (when this port has no Marathon API) is this master's own liveness answer.
        localPaths: new Set(options.ping ? ['/ping'] : []),
        notHosted: () => ({ status: 404, body: new JobsError('JOBS_NOT_HOSTED').body() }),
        unavailable: (problem) => ({
          status: 503,
          body: new JobsError('JOBS_UNAVAILABLE', `The jobs framework is not available: ${problem}`).body(),
        }),
      }),
    );
    if (jobs === null) {
      // Off: the gate answers every route of the API; these only give it a place to run.
      scope.all('/v1/jobs', async () => undefined);
      scope.all('/v1/jobs/*', async () => undefined);
      scope.all('/v0/scheduled-jobs', async () => undefined);
      scope.all('/v0/scheduled-jobs/*', async () => undefined);
      return;
    }
    // Metronome's liveness probe (general/ping.raml), when no Marathon API on this port answers it.
    if (options.ping) scope.get('/ping', async (_request, reply) => reply.type('text/plain').send('pong'));
    await registerMetronomeRoutes(scope, jobs);
  });
}
