// /v2/apps (apps.raml): list, create, update (PUT, PATCH, one app or many), delete, restart,
// tasks, versions. App ids contain slashes, so the single-app routes share one wildcard and the
// suffix (/restart, /tasks, /tasks/{taskId}, /versions, /versions/{version}) picks the action.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServicesFramework } from '../framework.ts';
import { MarathonApiError, marathonErrors } from '../api-error.ts';
import type { ChangeRequest, DeploymentResult } from '../operations.ts';
import { type AppId, parseAppId } from '../path-id.ts';
import type { AppEntry } from '../state.ts';
import { isObject } from '../validation.ts';
import { type AppEmbeds, appDefinitionJson, appJson, taskJson } from '../views.ts';
import { bodyList, mergedSpec, specFromBody } from './app-input.ts';
import { matchesLabels, parseLabelSelectors } from './labels.ts';
import { queryBoolean, queryList, queryString } from './query.ts';
import { queueEntryFor } from './queue-view.ts';
import { ensureLeading } from './leading.ts';
import { tasksText } from './text.ts';
import { keyedDeploy } from './keyed-writes.ts';
import { answerOf } from '../../hosting/remembered-requests.ts';

export function deploymentAnswer(reply: FastifyReply, result: DeploymentResult, status = 200): FastifyReply {
  return reply.code(status).header('Marathon-Deployment-Id', result.deploymentId).send(result);
}

/** The answer of a change: `{deploymentId, version}` with the Marathon-Deployment-Id header. */
const deploymentAnswerOf =
  (status = 200) =>
  (result: DeploymentResult) =>
    answerOf(status, result, { 'Marathon-Deployment-Id': result.deploymentId });

/**
 * Marathon's embed prefixes (InfoEmbedResolver): `apps.tasks`, `app.tasks`, `group.apps.tasks`
 * and `tasks` name the same embed on every route (marathon-python sends `app.tasks` to /v2/apps).
 */
const embedPrefixes = ['group.apps.', 'apps.', 'app.'] as const;

function embedNames(query: unknown): Set<string> {
  const names = new Set<string>();
  for (const value of queryList(query, 'embed')) {
    const prefix = embedPrefixes.find((candidate) => value.startsWith(candidate));
    names.add(prefix === undefined ? value : value.slice(prefix.length));
  }
  return names;
}

export function embedsFrom(query: unknown, single: boolean): AppEmbeds {
  const embeds = embedNames(query);
  const failures = embeds.has('failures');
  return {
    // GET /v2/apps embeds counts and deployments always (apps.raml); one app embeds everything.
    tasks: single || embeds.has('tasks') || failures,
    counts: true,
    deployments: true,
    lastTaskFailure: single || embeds.has('lastTaskFailure') || failures,
    readiness: single || embeds.has('readiness'),
    taskStats: embeds.has('taskStats'),
    queue: embeds.has('queue'),
  };
}

function appIdFrom(text: string): AppId {
  const parsed = parseAppId(text);
  if ('error' in parsed) throw marathonErrors.invalid([{ path: '/id', errors: [parsed.error] }], false);
  return parsed.id;
}

export function visibleApp(services: ServicesFramework, appId: AppId): AppEntry {
  const entry = services.state.apps.get(appId);
  if (entry === undefined || entry.deleting) throw marathonErrors.appNotFound(appId);
  return entry;
}

export function registerAppRoutes(scope: FastifyInstance, services: ServicesFramework): void {
  scope.get('/v2/apps', (request) => listApps(services, request));
  scope.post('/v2/apps', async (request, reply) => {
    const spec = specFromBody(request.body, services.config.role);
    return keyedDeploy(
      services,
      request,
      reply,
      [{ appId: spec.id, spec, mode: 'create' }],
      queryBoolean(request.query, 'force'),
      (result) => {
        const entry = services.state.apps.get(spec.id)!;
        const body = appJson(services.state, entry, embedsFrom({}, false), () => null);
        const headers = { Location: `/v2/apps${spec.id}`, 'Marathon-Deployment-Id': result.deploymentId };
        return answerOf(201, { ...body, tasks: [] }, headers);
      },
    );
  });
  scope.put('/v2/apps', (request, reply) => updateMany(services, request, reply, 'upsert'));
  scope.patch('/v2/apps', (request, reply) => updateMany(services, request, reply, 'update'));
  scope.get('/v2/apps/*', (request) => getOne(services, request));
  scope.put('/v2/apps/*', (request, reply) => updateOne(services, request, reply, 'upsert'));
  scope.patch('/v2/apps/*', (request, reply) => updateOne(services, request, reply, 'update'));
  scope.post('/v2/apps/*', (request, reply) => postOne(services, request, reply));
  scope.delete('/v2/apps/*', (request, reply) => deleteOne(services, request, reply));
}

function listApps(services: ServicesFramework, request: FastifyRequest): object {
  ensureLeading(services);
  const embeds = embedsFrom(request.query, false);
  const idFilter = queryString(request.query, 'id');
  const cmdFilter = queryString(request.query, 'cmd');
  const labelText = queryString(request.query, 'label');
  const selectors = labelText === null ? [] : parseLabelSelectors(labelText);
  if ('error' in selectors) throw new MarathonApiError(400, selectors.error);
  const apps = services.state
    .visibleApps()
    .filter((entry) => idFilter === null || entry.definition.id.includes(idFilter))
    .filter((entry) => cmdFilter === null || (entry.definition.cmd ?? '').includes(cmdFilter))
    .filter((entry) => matchesLabels(entry.definition.labels, selectors))
    .sort((left, right) => left.definition.id.localeCompare(right.definition.id))
    .map((entry) => appJson(services.state, entry, embeds, (appId) => queueEntryFor(services, appId)));
  return { apps };
}

/**
 * The app id and what follows it: `team/web/tasks/x` → (/team/web, tasks, x). `restart` is an
 * action only for POST (Marathon's only route with it), so GET of an app named /x/restart works.
 */
function splitPath(rest: string, method: string): { appId: AppId; action: string | null; argument: string | null } {
  const parts = rest.split('/').filter((part) => part !== '');
  for (const action of ['tasks', 'versions']) {
    const at = parts.lastIndexOf(action);
    if (at > 0 && at >= parts.length - 2) {
      return { appId: appIdFrom(parts.slice(0, at).join('/')), action, argument: parts[at + 1] ?? null };
    }
  }
  if (method === 'POST' && parts.length > 1 && parts[parts.length - 1] === 'restart') {
    return { appId: appIdFrom(parts.slice(0, -1).join('/')), action: 'restart', argument: null };
  }
  return { appId: appIdFrom(parts.join('/')), action: null, argument: null };
}

function wildcard(request: FastifyRequest): string {
  return decodeURIComponent((request.params as { '*': string })['*']);
}

async function getOne(services: ServicesFramework, request: FastifyRequest): Promise<unknown> {
  ensureLeading(services);
  const { appId, action, argument } = splitPath(wildcard(request), request.method);
  const entry = visibleApp(services, appId);
  if (action === 'tasks') {
    if (argument !== null) throw new MarathonApiError(405, 'GET of one task is not supported; use /v2/tasks');
    const tasks = services.state.instancesOf(appId).map((instance) => taskJson(instance, entry.definition));
    if ((request.headers.accept ?? '').startsWith('text/plain')) return tasksText([entry], services.state);
    return { tasks };
  }
  if (action === 'versions') {
    if (argument === null) return { versions: entry.versions };
    if (!entry.versions.includes(argument)) throw marathonErrors.appNotFound(`${appId}:${argument}`);
    const definition = await services.engine.persistence.readVersion(appId, argument);
    if (definition === null) throw marathonErrors.appNotFound(`${appId}:${argument}`);
    return appDefinitionJson(definition);
  }
  if (action !== null) throw new MarathonApiError(405, `GET ${action} is not supported`);
  return {
    app: appJson(services.state, entry, embedsFrom(request.query, true), (id) => queueEntryFor(services, id)),
  };
}

async function updateOne(
  services: ServicesFramework,
  request: FastifyRequest,
  reply: FastifyReply,
  mode: 'upsert' | 'update',
): Promise<FastifyReply> {
  const { appId, action } = splitPath(wildcard(request), request.method);
  if (action !== null) throw new MarathonApiError(405, `${request.method} ${action} is not supported`);
  const force = queryBoolean(request.query, 'force');
  const partial = mode === 'update' || queryBoolean(request.query, 'partialUpdate', true);
  const existing = services.engine.state.apps.get(appId);
  const current = existing === undefined || existing.deleting ? null : existing.definition;
  if (current === null && mode === 'update') throw marathonErrors.appNotFound(appId);
  if (isObject(request.body) && typeof request.body.id === 'string' && mode === 'upsert') {
    const bodyId = appIdFrom(request.body.id);
    if (bodyId !== appId) throw new MarathonApiError(400, `The given id ${bodyId} does not match the path id ${appId}`);
  }
  const spec =
    current !== null && partial
      ? mergedSpec(current, request.body, services.config.role)
      : specFromBody(request.body, services.config.role, appId);
  return keyedDeploy(
    services,
    request,
    reply,
    [{ appId, spec, mode }],
    force,
    deploymentAnswerOf(current === null ? 201 : 200),
  );
}

async function updateMany(
  services: ServicesFramework,
  request: FastifyRequest,
  reply: FastifyReply,
  mode: 'upsert' | 'update',
): Promise<FastifyReply> {
  const force = queryBoolean(request.query, 'force');
  const partial = mode === 'update' || queryBoolean(request.query, 'partialUpdate', true);
  const requests: ChangeRequest[] = bodyList(request.body).map((item, index) => {
    if (!isObject(item) || typeof item.id !== 'string') {
      throw marathonErrors.invalid([{ path: `(${index})/id`, errors: ['error.path.missing'] }], true);
    }
    const appId = appIdFrom(item.id);
    const existing = services.engine.state.apps.get(appId);
    const current = existing === undefined || existing.deleting ? null : existing.definition;
    if (current === null && mode === 'update') throw marathonErrors.appNotFound(appId);
    const spec =
      current !== null && partial
        ? mergedSpec(current, item, services.config.role)
        : specFromBody(item, services.config.role, appId);
    return { appId, spec, mode };
  });
  return keyedDeploy(services, request, reply, requests, force, deploymentAnswerOf());
}

async function postOne(
  services: ServicesFramework,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { appId, action } = splitPath(wildcard(request), request.method);
  if (action !== 'restart') throw new MarathonApiError(405, `POST is not supported on ${request.url}`);
  const entry = visibleApp(services, appId);
  const { version: _version, versionInfo: _versionInfo, ...spec } = entry.definition;
  const force = queryBoolean(request.query, 'force');
  return keyedDeploy(
    services,
    request,
    reply,
    [{ appId, spec, mode: 'update', restart: true }],
    force,
    deploymentAnswerOf(),
  );
}

async function deleteOne(
  services: ServicesFramework,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { appId, action, argument } = splitPath(wildcard(request), request.method);
  const force = queryBoolean(request.query, 'force');
  if (action === null) {
    visibleApp(services, appId);
    return keyedDeploy(services, request, reply, [{ appId, spec: null, mode: 'update' }], force, deploymentAnswerOf());
  }
  if (action !== 'tasks') throw new MarathonApiError(405, `DELETE is not supported on ${request.url}`);
  const entry = visibleApp(services, appId);
  const scale = queryBoolean(request.query, 'scale');
  if (queryBoolean(request.query, 'wipe'))
    throw new MarathonApiError(400, 'wipe is for resident apps, which Flotilla does not run');
  const host = queryString(request.query, 'host');
  const instances = services.state
    .instancesOf(appId)
    .filter((instance) => (argument === null ? host === null || instance.host === host : instance.taskId === argument));
  if (argument !== null && instances.length === 0) throw marathonErrors.taskNotFound(argument);
  const result = await services.operations.killTasks(instances, scale, force);
  if (result !== null) return deploymentAnswer(reply, result);
  const killed = instances.map((instance) => taskJson(instance, entry.definition));
  return reply.send(argument === null ? { tasks: killed } : { task: killed[0] });
}
