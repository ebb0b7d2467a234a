// The text/plain task lists of /v2/tasks and /v2/apps/{id}/tasks (tasks.raml): one line per app
// and service port, tab-separated: the app id (slashes as underscores), the service port, then
// host:port of every task on that port.
import { servicePorts } from '../app-definition.ts';
import type { AppEntry, ServicesState } from '../state.ts';

export function tasksText(entries: readonly AppEntry[], state: ServicesState): string {
  const lines: string[] = [];
  for (const entry of entries) {
    const app = entry.definition;
    const instances = state.instancesOf(app.id);
    const ports = servicePorts(app);
    const name = app.id.slice(1).replaceAll('/', '_');
    ports.forEach((servicePort, index) => {
      const targets = instances
        .filter((instance) => instance.ports[index] !== undefined)
        .map((instance) => `${instance.host}:${instance.ports[index]}`);
      lines.push([name, String(servicePort), ...targets].join('\t'));
    });
    if (ports.length === 0) lines.push([name, ' ', ...instances.map((instance) => instance.host)].join('\t'));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
