// The jobs API while its framework is starting (a new leader loading its state): 503
// JOBS_NOT_READY in Metronome's shape, with Retry-After as every other 503 of the master has
// (CI saw a leader that had just taken over answer without it). Nothing but `ready` is read
// before the answer, so the framework is this not-ready state alone.
import Fastify from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registerMetronomeRoutes } from '../../src/frameworks/jobs/api/metronome-routes.ts';
import type { JobsApi } from '../../src/frameworks/jobs/jobs-service.ts';

test('a jobs framework still loading answers 503 JOBS_NOT_READY with Retry-After', async () => {
  const app = Fastify();
  const starting = { ready: false } as unknown as JobsApi;
  await registerMetronomeRoutes(app, starting);
  try {
    for (const [method, url] of [
      ['GET', '/v1/jobs'],
      ['POST', '/v1/jobs/hello/runs'],
    ] as const) {
      const answer = await app.inject({ method, url });
      assert.is(answer.statusCode, 503, `${method} ${url}`);
      assert.is(answer.headers['retry-after'], '1', `${method} ${url}: Retry-After`);
      assert.is((answer.json() as { code: string }).code, 'JOBS_NOT_READY');
    }
  } finally {
    await app.close();
  }
});

test.run();
