// The services framework hosted by the leading master: one of its leader services (the shape of
// src/master/leadership/service.ts, which frameworks may not import). The master composes it
// (src/master/hosted-frameworks.ts) and serves its API on every port (src/http/routes/marathon.ts).
//
// start(term) begins competing for the lease as this master in `term` and resolves at once: the
// framework subscribes through the master's own public scheduler API, which answers only once
// every leader service runs, so waiting for the subscription here would wait for itself. Until
// its state is loaded the API answers 503 (Marathon's shape, with Retry-After).
// stop() halts it synchronously: when it returns, nothing of this term's instance can act (see
// ServicesFramework.halt). The next leader's instance takes the lease over at once (lease.ts).
import type { ServicesFramework } from './framework.ts';

export class HostedServices {
  readonly name = 'services-framework';

  constructor(
    readonly framework: ServicesFramework,
    /** The hosting master's id, written into the lease with the term. */
    readonly masterId: string,
  ) {}

  async start(term: number): Promise<void> {
    this.framework.start({ masterId: this.masterId, term });
  }

  stop(): void {
    this.framework.halt('this master stopped leading');
  }
}
