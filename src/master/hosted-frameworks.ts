// The built-in frameworks as this master's leader services (DESIGN.md "Frameworks"): the services
// framework (Marathon API) and the jobs framework (Metronome API), each unless its flag says
// `off` (--services, --jobs). They run only on the leader, after the learner promoter, and
// reach the masters exactly as an external framework would: through this master's public HTTP
// APIs (scheduler and KV) at its own address on loopback — no private path into the master. A
// follower never runs them; its port forwards their APIs to the leader (src/http/framework-gate.ts).
import type { Logger } from 'pino';
import { fileClock, systemClock } from '../frameworks/jobs/clock.ts';
import { HostedJobs } from '../frameworks/jobs/hosted.ts';
import { defaultJobsNamespace } from '../frameworks/jobs/jobs-service.ts';
import { type MasterAddress, parseMasterAddress } from '../frameworks/sdk/masters.ts';
import { defaultNamespace as defaultServicesNamespace } from '../frameworks/services/daemon.ts';
import { ServicesFramework } from '../frameworks/services/framework.ts';
import { HostedServices } from '../frameworks/services/hosted.ts';
import {
  defaultLeaseTtlMs,
  defaultMaxRunningDeployments,
  defaultTaskLaunchTimeoutMs,
} from '../frameworks/services/limits.ts';
import type { HostPort } from '../util/option-kinds.ts';
import type { MasterConfig } from './config.ts';
import type { LeaderService } from './leadership/service.ts';

export interface HostedFrameworks {
  /** The services framework whose Marathon API this master serves; null with --services=off. */
  readonly services: ServicesFramework | null;
  /** The jobs framework whose Metronome API this master serves; null with --jobs=off. */
  readonly jobs: HostedJobs | null;
  /** Their leader services, in start order (after the learner promoter). */
  readonly leaderServices: readonly LeaderService[];
}

/** This master as its own frameworks dial it: the listen address, loopback when it listens on every interface. */
export function ownAddress(listen: HostPort): MasterAddress {
  const host = listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host;
  return parseMasterAddress(`${host}:${listen.port}`);
}

export function buildHostedFrameworks(config: MasterConfig, logger: Logger): HostedFrameworks {
  const options = config.options;
  const masters = [ownAddress(options.listen)];
  const credential = config.frameworksCredential;
  const credentials = credential === null ? {} : { credentials: credential };
  // A getter: each term's framework (and each services start) reads the CA and certificate of
  // the moment, so a reload (SIGHUP) reaches the hosted frameworks' next connections.
  const identity = config.tls;
  const currentTls = () => (identity === null ? null : identity.clientOptions());
  const leaderServices: LeaderService[] = [];
  let services: ServicesFramework | null = null;
  if (options.services === 'hosted') {
    services = new ServicesFramework({
      masters,
      advertisedAddress: `${options.listen.host}:${options.listen.port}`,
      namespace: defaultServicesNamespace,
      frameworkName: 'flotilla-services',
      role: '*',
      user: 'root',
      leaseTtlMs: defaultLeaseTtlMs,
      maxRunningDeployments: defaultMaxRunningDeployments,
      taskLaunchTimeoutMs: defaultTaskLaunchTimeoutMs,
      logger: logger.child({ subsystem: 'services-framework' }),
      hosted: true,
      ...credentials,
      get tls() {
        return currentTls();
      },
    });
    leaderServices.push(new HostedServices(services, options.id));
  }
  let jobs: HostedJobs | null = null;
  if (options.jobs === 'hosted') {
    const jobsLogger = logger.child({ subsystem: 'jobs-framework' });
    const clockFile = options.jobsTestClockFile;
    if (clockFile !== null) jobsLogger.warn({ file: clockFile }, 'jobs framework: using a test clock (tests only)');
    jobs = new HostedJobs({
      masters,
      namespace: defaultJobsNamespace,
      clock: clockFile === null ? systemClock : fileClock(clockFile),
      logger: jobsLogger,
      ...credentials,
      // HostedJobs spreads these options into each term's JobsService, reading the getter then.
      get tls() {
        return currentTls();
      },
    });
    leaderServices.push(jobs);
  }
  return { services, jobs, leaderServices };
}
