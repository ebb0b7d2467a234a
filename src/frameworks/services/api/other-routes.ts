// The rest of Marathon's v2 API: /ping, /v2/info, /v2/leader, /v2/tasks, /v2/tasks/delete,
// /v2/deployments, /v2/queue (and its delay reset), /v2/groups (read-only: the tree of app ids).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { flotillaVersion } from '../../../util/version.ts';
import type { ServicesFramework } from '../framework.ts';
import { MarathonApiError, marathonErrors } from '../api-error.ts';
import { declineOfferDurationSeconds, servicePortMax, servicePortMin } from '../limits.ts';
import { parentGroups } from '../path-id.ts';
import type { AppEntry } from '../state.ts';
import { isObject } from '../validation.ts';
import { appJson, deploymentJson, taskJson } from '../views.ts';
import { deploymentAnswer, embedsFrom, visibleApp } from './app-routes.ts';
import { queryBoolean, queryList } from './query.ts';
import { queueEntryFor, queueJson } from './queue-view.ts';
import { ensureLeading } from './leading.ts';
import { tasksText } from './text.ts';

/** The Marathon release whose API this follows (clients gate features on it). */
export const marathonApiVersion = '1.10.0';

export function registerOtherRoutes(scope: FastifyInstance, services: ServicesFramework): void {
  scope.get('/v2/info', () => infoJson(services));
  scope.get('/v2/leader', () => {
    const leader = services.leaderAddress();
    if (leader === null) throw new MarathonApiError(404, 'There is no leader');
    return { leader };
  });
  scope.get('/v2/tasks', (request, reply) => {
    const wanted = new Set(queryList(request.query, 'status').concat(queryList(request.query, 'status[]')));
    const entries = services.engine.state.visibleApps();
    if ((request.headers.accept ?? '').startsWith('text/plain'))
      return reply.type('text/plain').send(tasksText(entries, services.state));
    const tasks = entries.flatMap((entry) =>
      services.state
        .instancesOf(entry.definition.id)
        .filter((instance) => wanted.size === 0 || wanted.has(instance.state.replace('TASK_', '').toLowerCase()))
        .map((instance) => taskJson(instance, entry.definition)),
    );
    return { tasks };
  });
  scope.post('/v2/tasks/delete', async (request, reply) => {
    const ids = isObject(request.body) && Array.isArray(request.body.ids) ? request.body.ids : null;
    if (ids === null) throw new MarathonApiError(400, 'Invalid JSON: expected {"ids": [...]}');
    const engine = services.engine;
    const instances = ids.map((id) => {
      const instance = engine.state.instances.get(String(id));
      if (instance === undefined) throw new MarathonApiError(400, `Invalid task id '${String(id)}'`);
      return instance;
    });
    const result = await services.operations.killTasks(
      instances,
      queryBoolean(request.query, 'scale'),
      queryBoolean(request.query, 'force'),
    );
    if (result !== null) return deploymentAnswer(reply, result);
    return {
      tasks: instances.map((instance) => taskJson(instance, engine.state.apps.get(instance.appId)?.definition)),
    };
  });
  registerDeploymentRoutes(scope, services);
  registerQueueRoutes(scope, services);
  registerGroupRoutes(scope, services);
}

function registerDeploymentRoutes(scope: FastifyInstance, services: ServicesFramework): void {
  scope.get('/v2/deployments', () => [...services.engine.state.deployments.values()].map(deploymentJson));
  scope.delete('/v2/deployments/:id', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const result = await services.operations.cancelDeployment(request.params.id, queryBoolean(request.query, 'force'));
    if (result === null) return reply.code(202).send();
    return deploymentAnswer(reply, result);
  });
}

function registerQueueRoutes(scope: FastifyInstance, services: ServicesFramework): void {
  scope.get('/v2/queue', (request) => {
    ensureLeading(services);
    return queueJson(services, queryList(request.query, 'embed').includes('lastUnusedOffers'));
  });
  scope.delete('/v2/queue/*', async (request, reply) => {
    const rest = (request.params as { '*': string })['*'];
    if (!rest.endsWith('/delay')) throw new MarathonApiError(404, `no route DELETE /v2/queue/${rest}`);
    const entry = visibleApp(services, `/${rest.slice(0, -'/delay'.length).replace(/^\/+/, '')}` as never);
    await services.operations.resetDelay(entry.definition.id);
    return reply.code(204).send();
  });
}

function registerGroupRoutes(scope: FastifyInstance, services: ServicesFramework): void {
  scope.get('/v2/groups', (request) => groupJson(services, '/', embedsFrom(request.query, false).tasks));
  scope.get('/v2/groups/*', (request) => {
    const rest = (request.params as { '*': string })['*'].replace(/\/+$/, '');
    const id = rest === '' ? '/' : `/${rest.replace(/^\/+/, '')}`;
    return groupJson(services, id, false);
  });
}

/** A group of the tree implied by app ids: its apps, and its subgroups, recursively. */
function groupJson(services: ServicesFramework, id: string, withTasks: boolean): Record<string, unknown> {
  ensureLeading(services);
  const entries = services.state.visibleApps();
  const groups = new Set<string>(['/']);
  for (const entry of entries) for (const group of parentGroups(entry.definition.id)) groups.add(group);
  if (!groups.has(id)) throw marathonErrors.groupNotFound(id);
  return groupTree(services, id, entries, groups, withTasks);
}

function groupTree(
  services: ServicesFramework,
  id: string,
  entries: readonly AppEntry[],
  groups: ReadonlySet<string>,
  withTasks: boolean,
): Record<string, unknown> {
  const parentOf = (path: string): string => {
    const cut = path.lastIndexOf('/');
    return cut <= 0 ? '/' : path.slice(0, cut);
  };
  const embeds = { ...embedsFrom({}, false), tasks: withTasks };
  const apps = entries
    .filter((entry) => parentOf(entry.definition.id) === id)
    .map((entry) => appJson(services.state, entry, embeds, (appId) => queueEntryFor(services, appId)));
  const children = [...groups].filter((group) => group !== '/' && parentOf(group) === id).sort();
  const versions = entries.map((entry) => entry.definition.version).sort();
  return {
    id,
    apps,
    groups: children.map((child) => groupTree(services, child, entries, groups, withTasks)),
    pods: [],
    dependencies: [],
    version: versions[versions.length - 1] ?? new Date(0).toISOString(),
  };
}

function infoJson(services: ServicesFramework): Record<string, unknown> {
  const config = services.config;
  const leader = services.leaderAddress();
  const port = Number(config.advertisedAddress.split(':').pop());
  return {
    name: 'marathon',
    version: marathonApiVersion,
    buildref: `flotilla-${flotillaVersion()}`,
    elected: services.leading,
    ...(leader === null ? {} : { leader }),
    ...(services.frameworkId === null ? {} : { frameworkId: services.frameworkId }),
    marathon_config: {
      master: config.masters.join(','),
      failover_timeout: 604_800,
      framework_name: config.frameworkName,
      ha: true,
      checkpoint: true,
      local_port_min: servicePortMin,
      local_port_max: servicePortMax,
      executor: '//cmd',
      hostname: config.advertisedAddress.split(':')[0],
      webui_url: null,
      mesos_role: config.role,
      mesos_user: config.user,
      task_launch_timeout: 300_000,
      reconciliation_initial_delay: 0,
      reconciliation_interval: 300_000,
      decline_offer_duration: declineOfferDurationSeconds * 1000,
      leader_proxy_connection_timeout_ms: 5_000,
      leader_proxy_read_timeout_ms: 30_000,
      features: [],
      task_lost_expunge_initial_delay: 300_000,
      task_lost_expunge_interval: 30_000,
    },
    zookeeper_config: {
      zk: `flotilla-kv://${config.masters.join(',')}/${config.namespace}`,
      zk_timeout: 10_000,
      zk_session_timeout: config.leaseTtlMs,
      zk_max_versions: 25,
      zk_connection_timeout: 10_000,
    },
    http_config: { http_port: port, https_port: 0 },
  };
}
