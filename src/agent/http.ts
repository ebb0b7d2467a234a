// The agent's own HTTP API (fastify, on --listen): GET /health, GET /monitor/statistics in the
// Mesos shape, and POST /api/v1 with GET_STATE (a small one), GET_FLAGS, LIST_FILES and READ_FILE on task
// sandboxes, and POST /api/v1/executor (executors/http-route.ts). Errors are {"error": {"code", "message"}} with a 4xx;
// bad input never crashes.
// Every route but /health is authenticated (src/auth/http-authentication.ts: the agent's
// --credentials, or the cluster secret of a master) and authorized by the agent's --acls
// (http-access.ts).
import { limitJsonNesting } from '../util/json-depth.ts';
import { maxBodyBytes } from './limits.ts';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Server as TlsServer } from 'node:tls';
import { registerAuthentication } from '../auth/http-authentication.ts';
import { resourceStatistics } from '../protocol/agent.ts';
import { SecretCheck } from '../util/shared-secret.ts';
import type { Agent } from './agent.ts';
import { AgentHttpError, errorBody } from './errors.ts';
import { registerExecutorRoute } from './executors/http-route.ts';
import {
  type AgentHttpAccess,
  type AgentRequestAccess,
  agentAllows,
  agentRequestAccess,
  requireAgentAllowed,
} from './http-access.ts';
import { registerAgentFileCalls } from './http-files.ts';

/** Whether the caller may view the task: view_tasks by its user (ANY when the checkpoint no longer holds it). */
function taskViewable(agent: Agent, access: AgentRequestAccess, frameworkId: string, taskId: string): boolean {
  return agentAllows(access, 'view_tasks', agent.checkpoint.taskUser(frameworkId, taskId) ?? null);
}

/** Executors are listed to a caller allowed view_tasks for any user (an executor has no task user of its own). */
function executorsViewable(access: AgentRequestAccess): boolean {
  return agentAllows(access, 'view_tasks', null);
}

export function buildAgentHttp(agent: Agent, access: AgentHttpAccess): FastifyInstance {
  const tls = agent.options.tls ?? null;
  // fastify types an HTTPS instance apart; the routes use only what both share.
  const app = Fastify({
    ...(tls === null ? {} : { https: tls.serverOptions() }),
    bodyLimit: maxBodyBytes,
    forceCloseConnections: true,
    ajv: { customOptions: { coerceTypes: false } },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  if (tls !== null) tls.onReload(() => (app.server as unknown as TlsServer).setSecureContext(tls.serverOptions()));
  app.removeContentTypeParser('text/plain');
  limitJsonNesting(app);
  app.setErrorHandler((error: FastifyError | AgentHttpError, _request, reply) => {
    if (error instanceof AgentHttpError)
      return void reply.code(error.status).send(errorBody(error.code, error.message));
    if (error.validation) return void reply.code(400).send(errorBody('INVALID_BODY', error.message));
    const translated = translateFastifyError(error);
    if (translated.status === 500) agent.options.logger.error({ err: error }, 'agent HTTP request failed');
    return void reply.code(translated.status).send(errorBody(translated.code, translated.message));
  });
  app.setNotFoundHandler(
    (request, reply) =>
      void reply.code(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  registerAuthentication(app, {
    credentials: access.credentials,
    clusterSecret: new SecretCheck(agent.options.secret),
  });
  const requestAccess = (request: Parameters<typeof agentRequestAccess>[0]): AgentRequestAccess =>
    agentRequestAccess(request, access.authorizer);

  app.get('/health', { config: { public: true } }, async () => ({
    ok: true,
    agentId: agent.agentId(),
    registered: agent.link.isRegistered(),
    leader: agent.link.leader(),
    runningTasks: agent.runs.size,
    pendingStatusUpdates: agent.checkpoint.pendingUpdateCount(),
  }));

  const metrics = agent.options.metrics;
  if (metrics !== undefined) {
    app.get('/metrics', async (_request, reply) =>
      reply.header('content-type', metrics.metrics.contentType).send(await metrics.metrics.text()),
    );
    app.get('/metrics/snapshot', async () => metrics.metrics.snapshot());
  }

  app.get('/monitor/statistics', async (request) => {
    const caller = requestAccess(request);
    const samples = await agent.usageSamples();
    const visible = samples.filter((sample) => taskViewable(agent, caller, sample.frameworkId, sample.taskId));
    return visible.map((sample) => ({
      framework_id: sample.frameworkId,
      executor_id: sample.taskId,
      executor_name: `Command Executor (Task: ${sample.taskId})`,
      source: sample.taskId,
      statistics: resourceStatistics(sample.usage),
    }));
  });

  const calls = new Map<string, (body: Record<string, unknown>, caller: AgentRequestAccess) => Promise<unknown>>();
  calls.set('GET_STATE', async (_body, caller) => ({
    type: 'GET_STATE',
    get_state: {
      agent_id: agent.agentId(),
      info: agent.info(),
      registered: agent.link.isRegistered(),
      leader: agent.link.leader(),
      tasks: agent.checkpoint
        .taskStates()
        .filter((task) => taskViewable(agent, caller, task.frameworkId, task.taskId))
        .map((task) => ({
          framework_id: task.frameworkId,
          task_id: task.taskId,
          state: task.state,
          sandbox: task.sandbox,
        })),
      executors: agent.executors
        .view()
        .filter(() => executorsViewable(caller))
        .map((executor) => ({
          framework_id: executor.frameworkId,
          executor_id: executor.executorId,
          kind: executor.kind,
          state: executor.state,
          sandbox: executor.sandbox,
          subscriptions: executor.subscriptions,
          pid: executor.pid,
        })),
    },
  }));
  // master.proto-style GetFlags (the agent v1 API has GET_FLAGS too): every option, by name.
  calls.set('GET_FLAGS', async (_body, caller) => {
    requireAgentAllowed(caller, 'view_flags', null);
    return {
      type: 'GET_FLAGS',
      get_flags: {
        flags: Object.entries(agent.options.flags ?? {})
          .sort(([left], [right]) => left.localeCompare(right))
          .map(([name, value]) => ({ name, value })),
      },
    };
  });
  registerAgentFileCalls(agent, calls);
  registerExecutorRoute(app, agent.executors, access.credentials !== null);
  app.post(
    '/api/v1',
    {
      schema: { body: { type: 'object', required: ['type'], properties: { type: { type: 'string', maxLength: 64 } } } },
    },
    async (request) => {
      const body = request.body as Record<string, unknown>;
      const call = calls.get(body.type as string);
      if (call === undefined)
        throw new AgentHttpError(
          'UNKNOWN_CALL',
          `unknown call type "${String(body.type)}"; known: ${[...calls.keys()].join(', ')}`,
        );
      return call(body, requestAccess(request));
    },
  );
  return app;
}

/** fastify's own failures (a body too large, not JSON, malformed) in the agent's registry. */
function translateFastifyError(error: FastifyError): AgentHttpError {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AgentHttpError('PAYLOAD_TOO_LARGE', `the body is larger than ${maxBodyBytes} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AgentHttpError('UNSUPPORTED_MEDIA_TYPE');
    default:
      break;
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new AgentHttpError('BAD_REQUEST', error.message);
  }
  return new AgentHttpError('INTERNAL');
}
