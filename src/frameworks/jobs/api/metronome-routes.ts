// Metronome's v1 REST API (api/src/main/resources/public/api/v1/jobs.raml and the v1
// controllers) as a fastify plugin over a JobsApi, so the standalone daemon serves it today
// and the masters can serve it on their own port later. Its errors keep Metronome's shapes,
// in their own encapsulated error handler: {"message", …} with 404/409/422, and the 422
// {"message":"Object is not valid","details":[{"path","errors"}]}.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JobsError, unknownJob, unknownRun, unknownSchedule } from '../errors.ts';
import { findRun } from '../job-record.ts';
import { CasExhaustedError, type RecordStamp } from '../job-store.ts';
import type { JobsApi } from '../jobs-service.ts';
import type { JobRecord, ScheduleSpec } from '../model.ts';
import { KvError } from '../../kv/client.ts';
import { IdempotencyKeyProblem } from '../../../protocol/idempotency-key.ts';
import {
  answerOf,
  keyedOf,
  keyedRequest,
  markKeyed,
  recall,
  type RememberedAnswer,
  remember,
  sendAnswer,
} from '../../hosting/remembered-requests.ts';
import {
  type Embed,
  embeds,
  jobInfoJson,
  jobSpecJson,
  runJson,
  scheduledJobJson,
  scheduleJson,
} from './metronome-json.ts';

interface JobParams {
  id: string;
}
interface RunParams extends JobParams {
  runId: string;
}
interface ScheduleParams extends JobParams {
  scheduleId: string;
}
interface EmbedQuery {
  embed?: string | string[];
}

function parseEmbed(query: EmbedQuery): Set<Embed> {
  const values = query.embed === undefined ? [] : Array.isArray(query.embed) ? query.embed : [query.embed];
  const chosen = new Set<Embed>();
  for (const value of values.flatMap((one) => one.split(','))) {
    if (!(embeds as readonly string[]).includes(value))
      throw new JobsError('JOB_BAD_REQUEST', `Unknown embed option: ${value}; known: ${embeds.join(', ')}`);
    chosen.add(value as Embed);
  }
  return chosen;
}

function parseBooleanQuery(value: string | undefined, name: string): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw new JobsError('JOB_BAD_REQUEST', `${name} must be true or false, got "${value}"`);
}

function sendError(error: FastifyError | Error, reply: FastifyReply): void {
  if (error instanceof JobsError) {
    // 503s (starting, masters unreachable) say when to retry, as every other 503 of the master does.
    if (error.status === 503) void reply.header('retry-after', '1');
    void reply.code(error.status).send(error.body());
    return;
  }
  if (error instanceof KvError || error instanceof CasExhaustedError) {
    const unavailable = new JobsError('JOBS_UNAVAILABLE', `${error.message}; retry shortly`);
    void reply.code(503).header('retry-after', '1').send(unavailable.body());
    return;
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    void reply.code(status).send({ message: error.message, code: 'JOB_BAD_REQUEST' });
    return;
  }
  reply.log.error({ err: error }, 'jobs API request failed');
  void reply.code(500).send({ message: 'internal error' });
}

export async function registerMetronomeRoutes(app: FastifyInstance, jobs: JobsApi): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((error: FastifyError, _request, reply) => sendError(error, reply));
    scope.addHook('onRequest', async () => {
      if (!jobs.ready) throw new JobsError('JOBS_NOT_READY');
    });
    scope.addHook('preHandler', (request, reply) => recallKeyed(jobs, request, reply));
    registerJobRoutes(scope, jobs);
    registerRunRoutes(scope, jobs);
    registerScheduleRoutes(scope, jobs);
    registerScheduledJobRoutes(scope, jobs);
  });
}

/**
 * Idempotency-Key (src/frameworks/hosting/remembered-requests.ts): a write whose key a job
 * remembers is answered the first answer again (or 422 for another request) before its route runs.
 */
async function recallKeyed(jobs: JobsApi, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  let keyed: ReturnType<typeof keyedRequest>;
  try {
    keyed = keyedRequest(request);
  } catch (error) {
    if (error instanceof IdempotencyKeyProblem) throw new JobsError('JOB_INVALID_IDEMPOTENCY_KEY', error.message);
    throw error;
  }
  if (keyed === null) return undefined;
  const recalled = recall(
    jobs.records().map((record) => record.requests),
    keyed,
    jobs.now(),
  );
  if (recalled.kind === 'replay') return sendAnswer(reply, recalled.answer, true);
  if (recalled.kind === 'reused') throw new JobsError('JOB_IDEMPOTENCY_KEY_REUSED');
  markKeyed(request, keyed);
  return undefined;
}

/**
 * Runs one write and sends its answer. A keyed write remembers `render(record, result)` in the
 * record it writes (the same compare-and-set) and sends exactly that; otherwise `plain(value)`.
 */
async function keyedWrite<Value>(
  jobs: JobsApi,
  request: FastifyRequest,
  reply: FastifyReply,
  write: (stamp: RecordStamp | undefined) => Promise<Value>,
  render: (record: JobRecord, result: unknown) => RememberedAnswer,
  plain: (value: Value) => RememberedAnswer,
): Promise<FastifyReply> {
  const keyed = keyedOf(request);
  const memo: { answer: RememberedAnswer | null } = { answer: null };
  const stamp: RecordStamp | undefined =
    keyed === null
      ? undefined
      : (record, result) => {
          const answer = render(record, result);
          memo.answer = answer;
          const entry = { ...keyed, atMs: jobs.now(), answer };
          return { ...record, requests: remember(record.requests, entry, entry.atMs) };
        };
  const value = await write(stamp);
  return sendAnswer(reply, memo.answer ?? plain(value), false);
}

function existing(jobs: JobsApi, id: string) {
  const record = jobs.record(id);
  if (record === undefined) throw unknownJob(id);
  return record;
}

function registerJobRoutes(app: FastifyInstance, jobs: JobsApi): void {
  const info = (id: string, embed: Set<Embed>) =>
    jobInfoJson(existing(jobs, id), embed, jobs.now(), (runId) => jobs.placement(runId));
  app.get<{ Querystring: EmbedQuery }>('/v1/jobs', async (request) => {
    const embed = parseEmbed(request.query);
    return jobs.records().map((record) => info(record.spec.id, embed));
  });
  const specAnswer = (status: number) => (record: JobRecord) => answerOf(status, jobSpecJson(record.spec));
  app.post('/v1/jobs', (request, reply) =>
    keyedWrite(jobs, request, reply, (stamp) => jobs.createJob(request.body, stamp), specAnswer(201), specAnswer(201)),
  );
  app.get<{ Params: JobParams; Querystring: EmbedQuery }>('/v1/jobs/:id', async (request) =>
    info(request.params.id, parseEmbed(request.query)),
  );
  app.put<{ Params: JobParams }>('/v1/jobs/:id', (request, reply) =>
    keyedWrite(
      jobs,
      request,
      reply,
      (stamp) => jobs.updateJob(request.params.id, request.body, stamp),
      specAnswer(200),
      specAnswer(200),
    ),
  );
  app.delete<{ Params: JobParams; Querystring: { stopCurrentJobRuns?: string } }>('/v1/jobs/:id', async (request) => {
    const stop = parseBooleanQuery(request.query.stopCurrentJobRuns, 'stopCurrentJobRuns');
    return jobSpecJson(await jobs.deleteJob(request.params.id, stop));
  });
}

function registerRunRoutes(app: FastifyInstance, jobs: JobsApi): void {
  const render = (jobId: string, run: Parameters<typeof runJson>[1]) => runJson(jobId, run, jobs.placement(run.id));
  app.get<{ Params: JobParams }>('/v1/jobs/:id/runs', async (request) => {
    const record = existing(jobs, request.params.id);
    return record.activeRuns.map((run) => render(record.spec.id, run));
  });
  app.post<{ Params: JobParams }>('/v1/jobs/:id/runs', async (request, reply) => {
    const jobId = existing(jobs, request.params.id).spec.id;
    return keyedWrite(
      jobs,
      request,
      reply,
      (stamp) => jobs.startRun(jobId, stamp),
      (record, runId) => answerOf(201, render(jobId, findRun(record, runId as string)!)),
      (run) => answerOf(201, render(jobId, run)),
    );
  });
  app.get<{ Params: RunParams }>('/v1/jobs/:id/runs/:runId', async (request) => {
    const record = existing(jobs, request.params.id);
    const run = findRun(record, request.params.runId);
    if (run === undefined) throw unknownRun(request.params.id, request.params.runId);
    return render(record.spec.id, run);
  });
  const stop = (request: FastifyRequest<{ Params: RunParams }>, reply: FastifyReply) => {
    const { id, runId } = request.params;
    return keyedWrite(
      jobs,
      request,
      reply,
      (stamp) => jobs.stopRun(id, runId, stamp),
      (record) => answerOf(200, render(id, findRun(record, runId)!)),
      (run) => answerOf(200, render(id, run)),
    );
  };
  // jobs.raml spells it /action/stop; Metronome's routes and clients use /actions/stop.
  app.post<{ Params: RunParams }>('/v1/jobs/:id/runs/:runId/actions/stop', stop);
  app.post<{ Params: RunParams }>('/v1/jobs/:id/runs/:runId/action/stop', stop);
}

function registerScheduleRoutes(app: FastifyInstance, jobs: JobsApi): void {
  app.get<{ Params: JobParams }>('/v1/jobs/:id/schedules', async (request) =>
    existing(jobs, request.params.id).schedules.map((schedule) => scheduleJson(schedule, jobs.now())),
  );
  const scheduleAnswer = (status: number) => (_record: JobRecord, schedule: unknown) =>
    answerOf(status, scheduleJson(schedule as ScheduleSpec, jobs.now()));
  app.post<{ Params: JobParams }>('/v1/jobs/:id/schedules', (request, reply) =>
    keyedWrite(
      jobs,
      request,
      reply,
      (stamp) => jobs.putSchedule(request.params.id, request.body, 'create', undefined, stamp),
      scheduleAnswer(201),
      (schedule) => answerOf(201, scheduleJson(schedule, jobs.now())),
    ),
  );
  app.get<{ Params: ScheduleParams }>('/v1/jobs/:id/schedules/:scheduleId', async (request) => {
    const schedule = existing(jobs, request.params.id).schedules.find(
      (candidate) => candidate.id === request.params.scheduleId,
    );
    if (schedule === undefined) throw unknownSchedule(request.params.scheduleId);
    return scheduleJson(schedule, jobs.now());
  });
  app.put<{ Params: ScheduleParams }>('/v1/jobs/:id/schedules/:scheduleId', (request, reply) => {
    const { id, scheduleId } = request.params;
    return keyedWrite(
      jobs,
      request,
      reply,
      (stamp) => jobs.putSchedule(id, request.body, 'replace', scheduleId, stamp),
      scheduleAnswer(200),
      (schedule) => answerOf(200, scheduleJson(schedule, jobs.now())),
    );
  });
  app.delete<{ Params: ScheduleParams }>('/v1/jobs/:id/schedules/:scheduleId', (request, reply) =>
    keyedWrite(
      jobs,
      request,
      reply,
      (stamp) => jobs.deleteSchedule(request.params.id, request.params.scheduleId, stamp),
      () => answerOf(200, undefined),
      () => answerOf(200, undefined),
    ),
  );
}

/**
 * Metronome's v0 API (v0/scheduled-jobs.raml, which its UI and several clients use): a job created
 * or replaced together with its schedules, answered as the JobSpec with `schedules`.
 */
function registerScheduledJobRoutes(app: FastifyInstance, jobs: JobsApi): void {
  const scheduledAnswer = (status: number) => (record: JobRecord) =>
    answerOf(status, scheduledJobJson(record, jobs.now()));
  app.post('/v0/scheduled-jobs', (request, reply) =>
    keyedWrite(
      jobs,
      request,
      reply,
      (stamp) => jobs.createJob(request.body, stamp),
      scheduledAnswer(201),
      scheduledAnswer(201),
    ),
  );
  app.put<{ Params: JobParams }>('/v0/scheduled-jobs/:id', (request, reply) =>
    keyedWrite(
      jobs,
      request,
      reply,
      (stamp) => jobs.replaceScheduledJob(request.params.id, request.body, stamp),
      scheduledAnswer(200),
      scheduledAnswer(200),
    ),
  );
}
