// Probes for what some tests need beyond Node: a Docker engine with the test image, and root
// with iproute2/iptables for network namespaces. Each returns undefined when the capability
// is there, or the reason it is not, ready for testUnless() in skip.ts.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import path from 'node:path';

export type DockerEndpoint =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

const defaultDockerSocket = '/var/run/docker.sock';
const dockerProbeTimeoutMs = 2_000;

/** Reads DOCKER_HOST the way the docker CLI does: unix:///path, tcp://host:port, or the default socket. */
export function parseDockerHost(dockerHost: string | undefined): DockerEndpoint {
  if (dockerHost === undefined || dockerHost === '') return { kind: 'unix', socketPath: defaultDockerSocket };
  if (dockerHost.startsWith('unix://')) return { kind: 'unix', socketPath: dockerHost.slice('unix://'.length) };
  const tcp = /^tcp:\/\/([^:/]+):(\d+)\/?$/.exec(dockerHost);
  if (tcp) return { kind: 'tcp', host: tcp[1] ?? '', port: Number(tcp[2]) };
  throw new Error(`DOCKER_HOST must look like unix:///path or tcp://host:port, got "${dockerHost}"`);
}

function describeEndpoint(endpoint: DockerEndpoint): string {
  return endpoint.kind === 'unix' ? `unix://${endpoint.socketPath}` : `tcp://${endpoint.host}:${endpoint.port}`;
}

function dockerGetStatus(endpoint: DockerEndpoint, requestPath: string): Promise<number> {
  const target =
    endpoint.kind === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
  return new Promise((resolve, reject) => {
    const request = http.get({ ...target, path: requestPath, timeout: dockerProbeTimeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${dockerProbeTimeoutMs} ms`)));
    request.on('error', reject);
  });
}

/** Undefined when DOCKER_HOST (or the default socket) answers and holds FLOTILLA_TEST_IMAGE. */
export async function dockerUnavailableReason(): Promise<string | undefined> {
  const image = process.env.FLOTILLA_TEST_IMAGE;
  if (image === undefined || image === '')
    return 'FLOTILLA_TEST_IMAGE is not set (.ci/run builds flotilla-test:busybox)';
  let endpoint: DockerEndpoint;
  try {
    endpoint = parseDockerHost(process.env.DOCKER_HOST);
  } catch (error) {
    return (error as Error).message;
  }
  const where = describeEndpoint(endpoint);
  try {
    const pingStatus = await dockerGetStatus(endpoint, '/_ping');
    if (pingStatus !== 200) return `the Docker engine at ${where} answered /_ping with ${pingStatus}`;
    const imageStatus = await dockerGetStatus(endpoint, `/images/${encodeURIComponent(image)}/json`);
    if (imageStatus !== 200) return `the Docker engine at ${where} has no image ${image} (status ${imageStatus})`;
  } catch (error) {
    return `no Docker engine at ${where}: ${(error as Error).message}`;
  }
  return undefined;
}

function findOnPath(command: string): string | undefined {
  const folders = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/sbin']);
  for (const folder of folders) {
    if (folder === '') continue;
    const candidate = path.join(folder, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder; try the next.
    }
  }
  return undefined;
}

/** Undefined when this process may create network namespaces, veth pairs and iptables rules. */
export function networkNamespacesUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const command of ['ip', 'iptables']) {
    if (findOnPath(command) === undefined) return `${command} is not installed (apt-get install iproute2 iptables)`;
  }
  return undefined;
}

/** Undefined when this process runs as root, which switching a task to another user needs. */
export function rootUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `tasks run as other users on Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'running tasks as another user needs a root agent, and the tests are not root';
  return undefined;
}

/** Undefined when Debian's docker-registry (the Docker distribution registry) can be started by a test. */
export function dockerRegistryUnavailableReason(): string | undefined {
  if (findOnPath('docker-registry') === undefined)
    return 'docker-registry is not installed (apt-get install docker-registry)';
  return undefined;
}

/** Undefined when systemd-analyze (the systemd package) can check unit files. */
export function systemdAnalyzeUnavailableReason(): string | undefined {
  return findOnPath('systemd-analyze') === undefined
    ? 'systemd-analyze is not installed (apt-get install systemd)'
    : undefined;
}

/**
 * Undefined when this process can mount a size-limited tmpfs (root with CAP_SYS_ADMIN, as in
 * CI): the full-disk tests give one replica a data directory that really fills up. Probed by
 * mounting and unmounting a 1 MiB one, since a container may be root without the capability.
 */
export function tmpfsMountUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return `a tmpfs mount needs Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'mounting a size-limited tmpfs needs root';
  const probe = mkdtempSync(path.join(tmpdir(), 'flotilla-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a tmpfs: ${String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim()}`;
  } finally {
    rmdirSync(probe);
  }
}

/** Undefined when the openssl command (Debian's openssl package) can make a throwaway CA for the TLS tests. */
export function opensslUnavailableReason(): string | undefined {
  return findOnPath('openssl') === undefined ? 'openssl is not installed (apt-get install openssl)' : undefined;
}

/** Debian's python3 (the system one, not a pyenv shim) and its python3-marathon package (marathon-python). */
export const systemPython = '/usr/bin/python3';

/** Undefined when the system python3 imports marathon-python (.ci/run installs python3-marathon). */
export function marathonPythonUnavailableReason(): string | undefined {
  try {
    execFileSync(systemPython, ['-c', 'import marathon'], { stdio: 'ignore', timeout: 30_000 });
    return undefined;
  } catch {
    return `${systemPython} cannot import marathon (apt-get install python3-marathon)`;
  }
}
