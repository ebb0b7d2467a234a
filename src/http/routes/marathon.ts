// Marathon's REST API (/v2/*, /ping) on this master's port: the services framework's own routes
// (src/frameworks/services/api/routes.ts), behind the gate that forwards to the leader, which
// runs the framework (../framework-gate.ts). With --services=off every /v2 route answers 404 with
// Marathon's {"message"} saying how to run the framework as its own process.
import type { FastifyInstance } from 'fastify';
import type { ServicesFramework } from '../../frameworks/services/framework.ts';
import { registerMarathonRoutes } from '../../frameworks/services/api/routes.ts';
import type { MasterCore } from '../../master/interface.ts';
import { frameworkGate } from '../framework-gate.ts';
import type { TlsIdentity } from '../../util/tls.ts';

export function registerMarathonApi(
  app: FastifyInstance,
  master: MasterCore,
  services: ServicesFramework | null,
  tls: TlsIdentity | null = null,
): void {
  void app.register(async (scope) => {
    scope.addHook(
      'onRequest',
      frameworkGate(master, {
        tls,
        hosted: services !== null,
        localPaths: new Set(services === null ? [] : ['/ping']),
        notHosted: () => ({
          status: 404,
          body: {
            message:
              'The services framework is not hosted by this master (--services=off). Run it as its own process: ' +
              'flotilla services --masters <masters> --listen <host:port>',
          },
        }),
        unavailable: (problem) => ({ status: 503, body: { message: `Leader is not available: ${problem}` } }),
      }),
    );
    if (services === null) {
      // Off: the gate answers every /v2 route; these only give it a place to run. /ping is left
      // to the jobs framework's API, which answers it when hosted (Metronome has one too).
      scope.all('/v2', async () => undefined);
      scope.all('/v2/*', async () => undefined);
      return;
    }
    registerMarathonRoutes(scope, services);
  });
}
