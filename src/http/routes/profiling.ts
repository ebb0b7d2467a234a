// The master's CPU profile over HTTP, as etcd's --enable-pprof and Nomad's /v1/agent/pprof offer
// theirs: off unless the master runs with --enable-profiling (a profile costs CPU and shows the
// code's insides), and guarded by the ACL action profile_masters (masters, asked as ANY).
//   GET  /debug/pprof/profile?seconds=N  profile for N seconds (1–300, default 30) and answer it
//   POST /debug/pprof/start              start a profile (409 while one runs)
//   POST /debug/pprof/stop               stop it and answer it
// The answer is a V8 .cpuprofile (Chrome DevTools, speedscope), the format of `node --cpu-prof`.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CpuProfiler, NoProfileError, ProfilerBusyError } from '../../util/cpu-profiler.ts';
import { requireAllowed } from '../access.ts';
import { HttpError } from '../errors.ts';

export const maxProfileSeconds = 300;
const defaultProfileSeconds = 30;

const noBody = { anyOf: [{ type: 'null' }, { type: 'object', additionalProperties: false, maxProperties: 0 }] };

/** `profiler` null: the master runs without --enable-profiling, and every route says so. */
export function registerProfilingRoutes(app: FastifyInstance, profiler: CpuProfiler | null): void {
  // A profile still running when the master stops is dropped with its inspector session.
  app.addHook('onClose', async () => profiler?.close());
  const enabled = (request: FastifyRequest): CpuProfiler => {
    requireAllowed(request, 'profile_masters', null);
    if (profiler === null)
      throw new HttpError('NOT_FOUND', 'profiling is off: start the master with --enable-profiling');
    return profiler;
  };
  app.get<{ Querystring: { seconds?: string } }>(
    '/debug/pprof/profile',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { seconds: { type: 'string', pattern: '^[0-9]{1,3}$' } },
        },
      },
    },
    async (request) => {
      const seconds = profileSeconds(request.query.seconds);
      const running = enabled(request);
      await start(running);
      await sleep(seconds * 1000);
      return stop(running);
    },
  );
  app.post('/debug/pprof/start', { schema: { body: noBody } }, async (request, reply) => {
    await start(enabled(request));
    return reply.code(204).send();
  });
  app.post('/debug/pprof/stop', { schema: { body: noBody } }, async (request) => stop(enabled(request)));
}

function profileSeconds(text: string | undefined): number {
  if (text === undefined) return defaultProfileSeconds;
  const seconds = Number(text);
  if (seconds < 1 || seconds > maxProfileSeconds)
    throw new HttpError('BAD_REQUEST', `seconds must be 1–${maxProfileSeconds}, got ${text}`);
  return seconds;
}

async function start(profiler: CpuProfiler): Promise<void> {
  try {
    await profiler.start();
  } catch (error) {
    if (error instanceof ProfilerBusyError) throw new HttpError('CONFLICT', error.message);
    throw error;
  }
}

async function stop(profiler: CpuProfiler): Promise<object> {
  try {
    return await profiler.stop();
  } catch (error) {
    if (error instanceof NoProfileError) throw new HttpError('CONFLICT', error.message);
    throw error;
  }
}
