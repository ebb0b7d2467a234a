// Whether a Docker engine answers where the agent's Docker containerizer (dockerode) will look:
// DOCKER_HOST (unix:///path or tcp://host:port), else /var/run/docker.sock. One GET /_ping,
// as `docker info` starts, bounded in time so a dead socket does not hold up `npm start`.
import http from 'node:http';

const defaultSocket = '/var/run/docker.sock';
const pingTimeoutMs = 1_500;

export interface DockerProbe {
  readonly available: boolean;
  /** Where it looked: unix:///var/run/docker.sock, tcp://host:port. */
  readonly endpoint: string;
  readonly problem: string | null;
}

type Target = { readonly socketPath: string } | { readonly host: string; readonly port: number };

function target(dockerHost: string | undefined): { target: Target; endpoint: string } | string {
  if (dockerHost === undefined || dockerHost === '')
    return { target: { socketPath: defaultSocket }, endpoint: `unix://${defaultSocket}` };
  if (dockerHost.startsWith('unix://'))
    return { target: { socketPath: dockerHost.slice('unix://'.length) }, endpoint: dockerHost };
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
  if (tcp) return { target: { host: tcp[1]!, port: Number(tcp[2]) }, endpoint: dockerHost };
  return `DOCKER_HOST "${dockerHost}" is neither unix:///path nor tcp://host:port`;
}

export function probeDocker(environment: NodeJS.ProcessEnv = process.env): Promise<DockerProbe> {
  const resolved = target(environment.DOCKER_HOST);
  if (typeof resolved === 'string')
    return Promise.resolve({ available: false, endpoint: environment.DOCKER_HOST ?? '', problem: resolved });
  const { endpoint } = resolved;
  return new Promise((resolve) => {
    const request = http.get({ ...resolved.target, path: '/_ping', timeout: pingTimeoutMs }, (response) => {
      response.resume();
      const ok = response.statusCode === 200;
      resolve({ available: ok, endpoint, problem: ok ? null : `/_ping answered ${response.statusCode}` });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${pingTimeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ available: false, endpoint, problem: error.code ?? error.message }),
    );
  });
}

/** The agent's --containerizers: Docker only where an engine answered, so a Docker-less machine still starts. */
export function agentContainerizers(docker: DockerProbe): string {
  return docker.available ? 'process,docker' : 'process';
}
