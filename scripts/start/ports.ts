// A taken port is found before anything starts, and named with the way around it: nothing
// half-starts and the user does not dig through logs for EADDRINUSE.
import { createServer } from 'node:net';
import { allNodes, type Layout } from './layout.ts';

/** Null when `host:port` can be listened on now; else why not (EADDRINUSE, EACCES…). */
export function portProblem(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'EADDRINUSE' ? 'is in use' : `cannot be used (${error.code ?? error.message})`),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** The one line to print for the first taken port, or null when every port is free. */
export async function firstTakenPort(layout: Layout): Promise<string | null> {
  for (const node of allNodes(layout)) {
    const problem = await portProblem(node.address.split(':')[0]!, node.port);
    if (problem === null) continue;
    const suggestion = layout.basePort + 1000;
    return (
      `port ${node.port} (${node.name}) ${problem}: stop what holds it, or start on other ports with ` +
      `\`npm start -- --base-port ${suggestion}\` (or FLOTILLA_BASE_PORT=${suggestion})`
    );
  }
  return null;
}
