// A dockerode client for DOCKER_HOST, read the way the docker CLI reads it: unix:///path,
// tcp://host:port, or the default socket when unset.
import Docker from 'dockerode';

export const defaultDockerSocket = '/var/run/docker.sock';

export function createDockerClient(dockerHost: string | undefined = process.env.DOCKER_HOST): Docker {
  if (dockerHost === undefined || dockerHost === '') return new Docker({ socketPath: defaultDockerSocket });
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
  if (tcp) return new Docker({ host: tcp[1] ?? '', port: Number(tcp[2]), protocol: 'http' });
  throw new Error(`DOCKER_HOST must look like unix:///path or tcp://host:port, got "${dockerHost}"`);
}

/** The HTTP status the engine answered with, when the error came from the engine. */
export function engineStatus(error: unknown): number | null {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : null;
}

export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: unknown } } | null)?.json;
  if (typeof json?.message === 'string') return json.message;
  return error instanceof Error ? error.message : String(error);
}
