// The app definition as the framework keeps it: every Marathon field with its default filled in
// (app.raml / AppDefinition.scala defaults), so the JSON echoed back is what Marathon would echo,
// and so the scheduler never has to ask "was this set?".
import type { FetchUri } from './app-fetch.ts';
import type { AppId } from './path-id.ts';

export type ConstraintOperator = 'UNIQUE' | 'CLUSTER' | 'GROUP_BY' | 'LIKE' | 'UNLIKE' | 'MAX_PER' | 'IS';
export const constraintOperators: readonly ConstraintOperator[] = [
  'UNIQUE',
  'CLUSTER',
  'GROUP_BY',
  'LIKE',
  'UNLIKE',
  'MAX_PER',
  'IS',
];
/** [field, operator] or [field, operator, value], as the v2 API writes them. */
export type Constraint = readonly [string, ConstraintOperator] | readonly [string, ConstraintOperator, string];

export type HealthCheckProtocol = 'HTTP' | 'HTTPS' | 'TCP' | 'COMMAND' | 'MESOS_TCP' | 'MESOS_HTTP' | 'MESOS_HTTPS';
export const healthCheckProtocols: readonly HealthCheckProtocol[] = [
  'HTTP',
  'HTTPS',
  'TCP',
  'COMMAND',
  'MESOS_TCP',
  'MESOS_HTTP',
  'MESOS_HTTPS',
];

export interface HealthCheck {
  readonly protocol: HealthCheckProtocol;
  readonly path: string | null;
  readonly portIndex: number | null;
  readonly port: number | null;
  readonly command: string | null;
  readonly gracePeriodSeconds: number;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly maxConsecutiveFailures: number;
  readonly delaySeconds: number;
  readonly ignoreHttp1xx: boolean;
}

/** app.raml AppHealthCheck defaults. */
export const healthCheckDefaults = {
  gracePeriodSeconds: 300,
  intervalSeconds: 60,
  timeoutSeconds: 20,
  maxConsecutiveFailures: 3,
  delaySeconds: 15,
} as const;

export interface PortDefinition {
  readonly port: number;
  readonly protocol: string;
  readonly name: string | null;
  readonly labels: Readonly<Record<string, string>>;
}

export interface PortMapping {
  readonly containerPort: number;
  readonly hostPort: number;
  readonly servicePort: number;
  readonly protocol: string;
  readonly name: string | null;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Volume {
  readonly containerPath: string;
  readonly hostPath: string;
  readonly mode: 'RO' | 'RW';
}

export interface Container {
  readonly type: 'DOCKER' | 'MESOS';
  readonly docker: {
    readonly image: string;
    readonly network: 'HOST' | 'BRIDGE' | 'NONE' | null;
    readonly privileged: boolean;
    readonly forcePullImage: boolean;
    readonly parameters: readonly { readonly key: string; readonly value: string }[];
  } | null;
  readonly portMappings: readonly PortMapping[];
  readonly volumes: readonly Volume[];
}

export type NetworkMode = 'host' | 'container/bridge' | 'container';

export interface UnreachableEnabled {
  readonly inactiveAfterSeconds: number;
  readonly expungeAfterSeconds: number;
}
export type UnreachableStrategy = UnreachableEnabled | 'disabled';

export type KillSelection = 'YOUNGEST_FIRST' | 'OLDEST_FIRST';

export interface AppDefinition {
  readonly id: AppId;
  readonly cmd: string | null;
  readonly args: readonly string[] | null;
  readonly user: string | null;
  readonly env: Readonly<Record<string, string>>;
  readonly instances: number;
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly gpus: number;
  readonly executor: string;
  readonly constraints: readonly Constraint[];
  readonly uris: readonly string[];
  /** What each task's agent fetches into its sandbox (`uris` given: converted into this list). */
  readonly fetch: readonly FetchUri[];
  readonly storeUrls: readonly string[];
  readonly backoffSeconds: number;
  readonly backoffFactor: number;
  readonly maxLaunchDelaySeconds: number;
  readonly container: Container | null;
  readonly healthChecks: readonly HealthCheck[];
  readonly dependencies: readonly AppId[];
  readonly upgradeStrategy: { readonly minimumHealthCapacity: number; readonly maximumOverCapacity: number };
  readonly labels: Readonly<Record<string, string>>;
  readonly acceptedResourceRoles: readonly string[] | null;
  readonly portDefinitions: readonly PortDefinition[];
  readonly requirePorts: boolean;
  readonly networks: readonly { readonly mode: NetworkMode; readonly name?: string }[];
  readonly taskKillGracePeriodSeconds: number | null;
  readonly killSelection: KillSelection;
  readonly unreachableStrategy: UnreachableStrategy;
  readonly role: string;
  /** The version of this definition: the time of the change that made it. */
  readonly version: string;
  readonly versionInfo: { readonly lastScalingAt: string; readonly lastConfigChangeAt: string };
}

/**
 * Marathon's defaults. maxLaunchDelaySeconds: Marathon 1.x documents 300 s (backoff.md, "the
 * largest delay allowed (default: 5 minutes)"), older raml said 3600; we follow the later docs.
 * unreachableStrategy: since 1.5.1 (MARATHON-7576) the default is 0/0: replace at once.
 */
export const appDefaults = {
  instances: 1,
  cpus: 1,
  mem: 128,
  disk: 0,
  gpus: 0,
  backoffSeconds: 1,
  backoffFactor: 1.15,
  maxLaunchDelaySeconds: 300,
  minimumHealthCapacity: 1,
  maximumOverCapacity: 1,
  killSelection: 'YOUNGEST_FIRST' as KillSelection,
  inactiveAfterSeconds: 0,
  expungeAfterSeconds: 0,
} as const;

type Unversioned = Omit<AppDefinition, 'version' | 'versionInfo'> & Partial<AppDefinition>;

/** The fields a change may differ in without restarting instances (Marathon's isOnlyScaleChange). */
export function isScaleOnlyChange(from: Unversioned, to: Unversioned): boolean {
  return configFingerprint(from) === configFingerprint(to);
}

/** Everything but instances and versions, in a stable form (keys sorted at every level). */
export function configFingerprint(app: Unversioned): string {
  const { instances: _instances, version: _version, versionInfo: _versionInfo, ...rest } = app;
  return canonicalJson(rest);
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** True when the app runs in a bridge (or container) network: its ports are container port mappings. */
export function usesPortMappings(app: AppDefinition): boolean {
  return app.networks.some((network) => network.mode !== 'host');
}

/** How many host ports one instance takes. */
export function hostPortCount(app: AppDefinition): number {
  if (usesPortMappings(app)) return app.container?.portMappings.length ?? 0;
  return app.portDefinitions.length;
}

/** The service ports of the app, in port order (what tasks list as servicePorts). */
export function servicePorts(app: AppDefinition): number[] {
  if (usesPortMappings(app)) return (app.container?.portMappings ?? []).map((mapping) => mapping.servicePort);
  return app.portDefinitions.map((definition) => definition.port);
}
