// Mesos DockerInfo.parameters: each `{key, value}` is a `docker run --key=value` option, added
// after the ones Mesos sets itself (docker-containerizer.md). Flotilla agents make containers
// through the Engine API, not the docker CLI, so they honour the options that API can express
// and the agent can allow; every other key is refused with the reason, by the master (400) and
// again by the agent (TASK_FAILED), never dropped. Shared by both, so they cannot disagree.
import { isIP } from 'node:net';

export const supportedDockerParameterKeys = [
  'label',
  'env',
  'user',
  'hostname',
  'workdir',
  'add-host',
  'dns',
  'dns-search',
  'cap-add',
  'cap-drop',
  'read-only',
  'init',
  'shm-size',
  'ulimit',
] as const;

export type DockerParameterKey = (typeof supportedDockerParameterKeys)[number];

/** A parameter read into what the Engine API takes. */
export type ParsedDockerParameter =
  | { readonly key: 'label' | 'env'; readonly name: string; readonly value: string }
  | { readonly key: 'user' | 'hostname' | 'workdir' | 'dns-search'; readonly value: string }
  | { readonly key: 'add-host'; readonly host: string; readonly address: string }
  | { readonly key: 'dns'; readonly address: string }
  | { readonly key: 'cap-add' | 'cap-drop'; readonly capability: string }
  | { readonly key: 'read-only' | 'init'; readonly enabled: boolean }
  | { readonly key: 'shm-size'; readonly bytes: number }
  | { readonly key: 'ulimit'; readonly name: string; readonly soft: number; readonly hard: number };

export class DockerParameterError extends Error {
  override name = 'DockerParameterError';
}

/** Labels the agent sets itself to find its containers again; a task must not forge them. */
export const reservedLabelPrefix = 'flotilla.';

const refusedWithReason: ReadonlyMap<string, string> = new Map(
  (
    [
      [
        ['volume', 'v', 'mount', 'volumes-from'],
        'use container.volumes (host paths are checked against the agent allow-list)',
      ],
      [
        ['publish', 'p', 'publish-all', 'expose'],
        "use docker.port_mappings (host ports come from the task's port resources)",
      ],
      [['network', 'net', 'network-alias', 'ip', 'ip6', 'link'], 'use docker.network (HOST, BRIDGE or NONE)'],
      [['privileged'], 'use docker.privileged'],
      [
        ['memory', 'm', 'memory-swap', 'memory-reservation', 'cpus', 'cpu-shares', 'c', 'cpu-quota', 'cpu-period'],
        "limits come from the task's cpus and mem resources",
      ],
      [['name'], 'the agent names its containers (and finds them again by label)'],
      [
        ['rm', 'detach', 'd', 'restart', 'interactive', 'i', 'tty', 't', 'attach', 'a'],
        "the agent manages the container's life and output",
      ],
      [['entrypoint'], "a command with shell false runs the image's entrypoint with value and arguments"],
      [['log-driver', 'log-opt'], "the agent copies the container's output with the engine's logs"],
      [['pid', 'ipc', 'uts', 'userns', 'cgroupns'], 'host namespaces are not offered to tasks'],
    ] as const
  ).flatMap(([keys, reason]) => keys.map((key) => [key, reason] as const)),
);

const environmentName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const labelName = /^[A-Za-z0-9_./-]{1,128}$/;
const userSpec = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;
const hostName = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const capabilityName = /^(CAP_)?[A-Z_]{2,32}$/;
const ulimitNames = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
]);
const byteUnits: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "NAME=VALUE": label and env. A label may have no "=" (an empty value), an env may not. */
function pair(key: 'label' | 'env', value: string): ParsedDockerParameter {
  const equals = value.indexOf('=');
  if (equals < 0 && key === 'env')
    throw new DockerParameterError('env needs NAME=VALUE (the agent does not pass on its own environment)');
  const name = equals < 0 ? value : value.slice(0, equals);
  const text = equals < 0 ? '' : value.slice(equals + 1);
  if (key === 'env' && !environmentName.test(name))
    throw new DockerParameterError(`"${name}" is not an environment variable name`);
  if (key === 'label' && !labelName.test(name)) throw new DockerParameterError(`"${name}" is not a label key`);
  if (key === 'label' && name.startsWith(reservedLabelPrefix))
    throw new DockerParameterError(`labels starting with "${reservedLabelPrefix}" are the agent's own`);
  return { key, name, value: text };
}

function flag(key: 'read-only' | 'init', value: string): ParsedDockerParameter {
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === '1') return { key, enabled: true };
  if (lower === 'false' || lower === '0') return { key, enabled: false };
  throw new DockerParameterError(`${key} must be true or false`);
}

function shmSize(value: string): ParsedDockerParameter {
  const match = /^(\d{1,15})([kmg]?)i?b?$/i.exec(value);
  const unit = byteUnits[(match?.[2] ?? '').toLowerCase()];
  if (match === null || unit === undefined || Number(match[1]) === 0)
    throw new DockerParameterError('shm-size must be a size such as 67108864, 64m or 1g');
  return { key: 'shm-size', bytes: Number(match[1]) * unit };
}

function ulimit(value: string): ParsedDockerParameter {
  const match = /^([a-z]+)=(\d{1,18})(?::(\d{1,18}))?$/.exec(value);
  if (match === null || !ulimitNames.has(match[1] ?? ''))
    throw new DockerParameterError('ulimit must be NAME=SOFT[:HARD], e.g. nofile=1024:2048');
  const soft = Number(match[2]);
  const hard = match[3] === undefined ? soft : Number(match[3]);
  if (soft > hard) throw new DockerParameterError('ulimit: the soft limit is above the hard one');
  return { key: 'ulimit', name: match[1] ?? '', soft, hard };
}

function checked(key: 'user' | 'hostname' | 'workdir' | 'dns-search', value: string): ParsedDockerParameter {
  const ok =
    key === 'user'
      ? userSpec.test(value)
      : key === 'workdir'
        ? value.startsWith('/') && !value.includes('\0')
        : hostName.test(value) && value.length <= 253;
  if (!ok) throw new DockerParameterError(`"${value}" is not a valid ${key}`);
  return { key, value };
}

function address(key: 'add-host' | 'dns', value: string): ParsedDockerParameter {
  if (key === 'dns') {
    if (isIP(value) === 0) throw new DockerParameterError(`dns: "${value}" is not an IP address`);
    return { key, address: value };
  }
  const colon = value.indexOf(':');
  const host = value.slice(0, Math.max(0, colon));
  const ip = value.slice(colon + 1);
  if (colon < 0 || !hostName.test(host) || isIP(ip) === 0)
    throw new DockerParameterError('add-host must be HOST:IP, e.g. db.local:10.0.0.5');
  return { key, host, address: ip };
}

function capability(key: 'cap-add' | 'cap-drop', value: string): ParsedDockerParameter {
  const upper = value.toUpperCase();
  if (upper !== 'ALL' && !capabilityName.test(upper))
    throw new DockerParameterError(`${key}: "${value}" is not a Linux capability`);
  return { key, capability: upper };
}

function isSupported(key: string): key is DockerParameterKey {
  return (supportedDockerParameterKeys as readonly string[]).includes(key);
}

/**
 * Reads one parameter, or throws DockerParameterError saying why it cannot be honoured. The
 * network matters for one key: Docker refuses a hostname on HOST networking.
 */
export function parseDockerParameter(
  key: string,
  value: string,
  network: 'HOST' | 'BRIDGE' | 'NONE',
): ParsedDockerParameter {
  const reason = refusedWithReason.get(key);
  if (reason !== undefined) throw new DockerParameterError(`--${key} is not accepted: ${reason}`);
  if (!isSupported(key)) {
    throw new DockerParameterError(
      `--${key} is not supported by Flotilla agents (supported: ${supportedDockerParameterKeys.join(', ')})`,
    );
  }
  switch (key) {
    case 'label':
    case 'env':
      return pair(key, value);
    case 'read-only':
    case 'init':
      return flag(key, value);
    case 'shm-size':
      return shmSize(value);
    case 'ulimit':
      return ulimit(value);
    case 'add-host':
    case 'dns':
      return address(key, value);
    case 'cap-add':
    case 'cap-drop':
      return capability(key, value);
    case 'hostname':
      if (network === 'HOST') throw new DockerParameterError('Docker cannot set a hostname on HOST networking');
      return checked(key, value);
    case 'user':
    case 'workdir':
    case 'dns-search':
      return checked(key, value);
  }
}
