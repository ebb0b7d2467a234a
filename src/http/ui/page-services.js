// The services page: the services framework's apps (Marathon API /v2/apps, hosted by the leading
// master) with their instances — asked, running, healthy — and each instance (state, health,
// where, version); the deployments in progress with their step (/v2/deployments); and, from
// /v2/queue, the instances still waiting to be placed and why the last offers did not fit.
import { h } from './dom.js';
import { pollFramework } from './framework-poll.js';
import { pages } from './pages.js';
import { section, table } from './widgets.js';

const appColumns = [
  { title: 'app' },
  { title: 'instances', className: 'number' },
  { title: 'running', className: 'number' },
  { title: 'healthy', className: 'number' },
  { title: 'staged', className: 'number' },
  { title: 'deployment' },
  { title: 'command or image' },
];

const queueColumns = [{ title: 'app' }, { title: 'waiting', className: 'number' }, { title: 'why not placed' }];

const instanceColumns = [
  { title: 'instance' },
  { title: 'app' },
  { title: 'state' },
  { title: 'health' },
  { title: 'where' },
  { title: 'version' },
];

const deploymentColumns = [
  { title: 'deployment' },
  { title: 'apps' },
  { title: 'step', className: 'number' },
  { title: 'doing now' },
  { title: 'version' },
];

/** Instances drawn at most: the page redraws every 3 s, and 10,000 rows would make it crawl. */
export const maxInstanceRows = 500;

/** "healthy", "unhealthy" or "—" (no health check, or no result yet), as Marathon's healthCheckResults say. */
export function instanceHealth(task) {
  const results = task.healthCheckResults ?? [];
  if (results.length === 0) return '—';
  return results.every((result) => result.alive) ? 'healthy' : 'unhealthy';
}

function instancesTable(apps) {
  const tasks = apps.flatMap((app) => (app.tasks ?? []).map((task) => ({ ...task, appId: app.id })));
  tasks.sort((left, right) => left.appId.localeCompare(right.appId) || left.id.localeCompare(right.id));
  const shown = tasks.slice(0, maxInstanceRows);
  const element = table({
    caption: shown.length < tasks.length ? `the first ${shown.length} of ${tasks.length} instances` : null,
    columns: instanceColumns,
    rows: shown,
    empty: 'no instance is running',
    cells: (task) => [
      task.id,
      task.appId,
      task.state,
      instanceHealth(task),
      `${task.host}${(task.ports ?? []).length === 0 ? '' : `:${task.ports.join(',')}`}`,
      task.version,
    ],
  });
  element.id = 'services-instances';
  return element;
}

function deploymentsTable(deployments) {
  const element = table({
    columns: deploymentColumns,
    rows: deployments,
    empty: 'no deployment in progress',
    cells: (deployment) => [
      deployment.id,
      (deployment.affectedApps ?? []).join(', '),
      `${deployment.currentStep} of ${deployment.totalSteps}`,
      (deployment.currentActions ?? []).map((action) => `${action.action} ${action.app}`).join(', ') || '—',
      deployment.version,
    ],
  });
  element.id = 'services-deployments';
  return element;
}

/** The reasons the last offers were declined for, most first: "insufficient cpus ×2". */
export function whyNotPlaced(entry) {
  const steps = entry.processedOffersSummary?.rejectSummaryLastOffers ?? [];
  const reasons = steps.filter((step) => step.declined > 0).map((step) => `${step.reason} ×${step.declined}`);
  const quota = entry.processedOffersSummary?.quotaReached;
  if (quota !== undefined) reasons.unshift(`quota reached: ${quota}`);
  if (entry.delay?.timeLeftSeconds > 0) reasons.push(`backing off ${entry.delay.timeLeftSeconds} s`);
  return reasons.length === 0 ? 'no offer seen yet' : reasons.join(' · ');
}

function appsTable(apps) {
  const element = table({
    columns: appColumns,
    rows: [...apps].sort((left, right) => (left.id < right.id ? -1 : 1)),
    empty: 'no app: POST one to /v2/apps, or `flotilla services deploy FILE`',
    cells: (app) => [
      app.id,
      app.instances,
      app.tasksRunning ?? 0,
      app.tasksHealthy ?? 0,
      app.tasksStaged ?? 0,
      (app.deployments ?? []).length === 0 ? '—' : app.deployments.map((deployment) => deployment.id).join(', '),
      app.container?.docker?.image ?? app.cmd ?? '—',
    ],
  });
  element.id = 'services-apps';
  return element;
}

function queueTable(queue) {
  const element = table({
    columns: queueColumns,
    rows: queue,
    empty: 'nothing waiting: every instance asked for is placed',
    cells: (entry) => [entry.app?.id ?? '?', entry.count, whyNotPlaced(entry)],
  });
  element.id = 'services-queue';
  return element;
}

function createServicesView(context) {
  const note = h('p', { class: 'note' }, 'Reading /v2/apps from the leading master…');
  const apps = h('div');
  const queue = h('div');
  const instances = h('div');
  const deployments = h('div');
  const paths = ['/v2/apps?embed=apps.tasks', '/v2/queue', '/v2/deployments'];
  const polling = pollFramework(context, paths, (answers, error) => {
    if (error !== null) {
      note.textContent = `The services framework does not answer: ${error}`;
      return;
    }
    note.textContent = 'The services framework (Marathon API, /v2) as the leading master runs it; every 3 s.';
    apps.replaceChildren(appsTable(answers[0].apps ?? []));
    queue.replaceChildren(queueTable(answers[1].queue ?? []));
    deployments.replaceChildren(deploymentsTable(answers[2] ?? []));
    instances.replaceChildren(instancesTable(answers[0].apps ?? []));
  });
  return {
    element: h(
      'div',
      { class: 'page page-services' },
      section('Services', null, note, apps),
      section('Waiting to be placed', null, queue),
      section('Deployments', null, deployments),
      section('Instances', null, instances),
    ),
    update() {},
    destroy() {
      polling.stop();
    },
  };
}

pages.register({
  id: 'services',
  title: 'Services',
  order: 60,
  nav: true,
  match: (parts) => (parts[0] === 'services' && parts.length === 1 ? {} : null),
  create: createServicesView,
});
