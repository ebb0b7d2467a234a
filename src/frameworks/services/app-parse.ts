// A Marathon v2 app definition (app.raml) from untrusted JSON: every field type-checked, every
// default filled, every Marathon validation rule we know applied, and the features Flotilla's
// agents cannot honour (secrets, readiness checks, custom executors, persistent
// volumes) refused with a 422 that names the field, never dropped silently.
import {
  type AppDefinition,
  appDefaults,
  type Constraint,
  type ConstraintOperator,
  constraintOperators,
  type Container,
  type HealthCheck,
  healthCheckDefaults,
  type HealthCheckProtocol,
  healthCheckProtocols,
  type NetworkMode,
  type PortDefinition,
  type PortMapping,
  type UnreachableStrategy,
  type Volume,
} from './app-definition.ts';
import {
  maxConstraints,
  maxEnvironmentVariables,
  maxHealthChecks,
  maxInstancesPerApp,
  maxLabels,
  maxPortDefinitions,
} from './limits.ts';
import { readFetch } from './app-fetch.ts';
import { type AppId, parseAppId } from './path-id.ts';
import {
  isObject,
  type Json,
  Problems,
  readArray,
  readBoolean,
  readNumber,
  readObject,
  readString,
  readStringList,
  readStringMap,
  type ValidationDetail,
} from './validation.ts';

/** A definition before the framework stamps its version (which depends on what it replaces). */
export type AppSpec = Omit<AppDefinition, 'version' | 'versionInfo'>;

export type ParseOutcome =
  | { readonly ok: true; readonly spec: AppSpec }
  | { readonly ok: false; readonly typeError: boolean; readonly details: readonly ValidationDetail[] };

export interface ParseContext {
  /** The framework's role: an app may run only in it (Marathon's --mesos_role). */
  readonly role: string;
  /** The id from the URL, used when the body has none (PUT /v2/apps/{id}). */
  readonly pathId?: AppId;
}

const commandMissing = "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";

export function parseApp(input: unknown, context: ParseContext): ParseOutcome {
  const problems = new Problems();
  if (!isObject(input)) {
    problems.wrongType('/', 'jsobject');
    return { ok: false, typeError: true, details: problems.details() };
  }
  const id = readId(input, context, problems);
  const spec = readSpec(input, id, context, problems);
  checkCommand(spec, problems);
  refuseUnsupported(input, problems);
  if (!problems.empty || id === null) return { ok: false, typeError: problems.typeError, details: problems.details() };
  return { ok: true, spec };
}

function readId(input: Json, context: ParseContext, problems: Problems): AppId | null {
  const raw = readString(input, 'id', '', problems);
  if (raw === undefined || raw === null) {
    if (context.pathId !== undefined) return context.pathId;
    problems.add('/id', 'error.path.missing');
    return null;
  }
  const parsed = parseAppId(raw);
  if ('error' in parsed) {
    problems.add('/id', parsed.error);
    return null;
  }
  return parsed.id;
}

function readSpec(input: Json, id: AppId | null, context: ParseContext, problems: Problems): AppSpec {
  const container = readContainer(input, problems);
  const networks = readNetworks(input, problems, container);
  return {
    id: id ?? ('/' as AppId),
    cmd: readCommand(input, problems),
    args: readStringList(input, 'args', '', problems, 256) ?? null,
    user: readString(input, 'user', '', problems) ?? null,
    env: readStringMap(input, 'env', '', problems, maxEnvironmentVariables) ?? {},
    instances:
      readNumber(input, 'instances', '', problems, { min: 0, max: maxInstancesPerApp, integer: true }) ??
      appDefaults.instances,
    cpus: readNumber(input, 'cpus', '', problems, { min: 0.001 }) ?? appDefaults.cpus,
    mem: readNumber(input, 'mem', '', problems, { min: 0 }) ?? appDefaults.mem,
    disk: readNumber(input, 'disk', '', problems, { min: 0 }) ?? appDefaults.disk,
    gpus: readNumber(input, 'gpus', '', problems, { min: 0, integer: true }) ?? appDefaults.gpus,
    executor: readExecutor(input, problems),
    constraints: readConstraints(input, problems),
    ...readFetch(input, problems),
    storeUrls: readStringList(input, 'storeUrls', '', problems, 64) ?? [],
    backoffSeconds: readNumber(input, 'backoffSeconds', '', problems, { min: 0 }) ?? appDefaults.backoffSeconds,
    backoffFactor: readNumber(input, 'backoffFactor', '', problems, { min: 1 }) ?? appDefaults.backoffFactor,
    maxLaunchDelaySeconds:
      readNumber(input, 'maxLaunchDelaySeconds', '', problems, { min: 0 }) ?? appDefaults.maxLaunchDelaySeconds,
    container,
    healthChecks: readHealthChecks(input, problems),
    dependencies: readDependencies(input, problems),
    upgradeStrategy: readUpgradeStrategy(input, problems),
    labels: readStringMap(input, 'labels', '', problems, maxLabels) ?? {},
    acceptedResourceRoles: readStringList(input, 'acceptedResourceRoles', '', problems, 16) ?? null,
    portDefinitions: readPortDefinitions(input, problems, networks),
    requirePorts: readBoolean(input, 'requirePorts', '', problems) ?? false,
    networks,
    taskKillGracePeriodSeconds: readNumber(input, 'taskKillGracePeriodSeconds', '', problems, { min: 0 }) ?? null,
    killSelection: readKillSelection(input, problems),
    unreachableStrategy: readUnreachableStrategy(input, problems),
    role: readRole(input, context, problems),
  };
}

function readCommand(input: Json, problems: Problems): string | null {
  const cmd = readString(input, 'cmd', '', problems);
  if (cmd === '') problems.add('/cmd', 'must not be empty');
  return cmd ?? null;
}

function checkCommand(spec: AppSpec, problems: Problems): void {
  if (spec.cmd !== null && spec.args !== null && spec.args.length > 0) {
    problems.add('/', "AppDefinition must either contain a 'cmd' or a 'args', not both");
  }
  const hasCommand = spec.cmd !== null || (spec.args !== null && spec.args.length > 0);
  if (!hasCommand && spec.container?.docker == null) problems.add('/', commandMissing);
  // Flotilla's agent fetches for a command; an image's own entrypoint gets no fetched files.
  if (!hasCommand && spec.fetch.length > 0) problems.add('/fetch', "fetching URIs needs a 'cmd' or 'args'");
  const minimum = spec.upgradeStrategy.minimumHealthCapacity;
  if (spec.container?.type === 'DOCKER' && spec.container.docker === null)
    problems.add('/container/docker', 'must not be empty for a DOCKER container');
  if (minimum < 0) problems.add('/upgradeStrategy/minimumHealthCapacity', 'is less than 0');
}

function readExecutor(input: Json, problems: Problems): string {
  const executor = readString(input, 'executor', '', problems) ?? '';
  if (executor !== '' && executor !== '//cmd') {
    problems.add('/executor', 'custom executors are not supported by Flotilla; use "" or "//cmd"');
  }
  return executor;
}

function readRole(input: Json, context: ParseContext, problems: Problems): string {
  const role = readString(input, 'role', '', problems) ?? context.role;
  if (role !== context.role) problems.add('/role', `got ${role}, expected ${context.role}`);
  return role;
}

function readConstraints(input: Json, problems: Problems): Constraint[] {
  const list = readArray(input, 'constraints', '', problems, maxConstraints) ?? [];
  const out: Constraint[] = [];
  for (const [index, item] of list.entries()) {
    const constraint = readConstraint(item, `/constraints(${index})`, problems);
    if (constraint !== null) out.push(constraint);
  }
  return out;
}

/** A constraint as the v2 array (or the pods' {fieldName, operator, value} object). */
function readConstraint(item: unknown, path: string, problems: Problems): Constraint | null {
  const parts = Array.isArray(item) ? item : isObject(item) ? [item.fieldName, item.operator, item.value] : null;
  if (parts === null) {
    problems.wrongType(path, 'jsarray');
    return null;
  }
  if (Array.isArray(item) && (item.length < 2 || item.length > 3)) {
    problems.add(path, 'Each constraint must have either 2 or 3 fields');
    return null;
  }
  const [field, operator, value] = parts.filter((part) => part !== undefined && part !== null);
  if (typeof field !== 'string' || field === '') {
    problems.add(path, 'Missing field and operator');
    return null;
  }
  if (typeof operator !== 'string' || !constraintOperators.includes(operator as ConstraintOperator)) {
    problems.add(path, `Constraint operator must be one of the following: [${constraintOperators.join(', ')}]`);
    return null;
  }
  if (value !== undefined && typeof value !== 'string') {
    problems.wrongType(path, 'jsstring');
    return null;
  }
  const problem = constraintValueProblem(operator as ConstraintOperator, value);
  if (problem !== null) {
    problems.add(path, problem);
    return null;
  }
  const known = operator as ConstraintOperator;
  return value === undefined ? [field, known] : [field, known, value];
}

/** Marathon's constraint validation (AppDefinition.scala, "validConstraint"). */
export function constraintValueProblem(operator: ConstraintOperator, value: string | undefined): string | null {
  switch (operator) {
    case 'UNIQUE':
      return value === undefined ? null : 'Value specified but not used';
    case 'CLUSTER':
      return value === undefined || value === '' ? null : null;
    case 'GROUP_BY':
      return value === undefined || /^\d+$/.test(value) ? null : 'Value was not a number';
    case 'MAX_PER':
      return value !== undefined && /^\d+$/.test(value) ? null : 'Value was not a number';
    case 'LIKE':
    case 'UNLIKE':
      if (value === undefined) return 'A regular expression value must be provided';
      try {
        new RegExp(`^(?:${value})$`);
        return null;
      } catch {
        return `'${value}' is not a valid regular expression`;
      }
    case 'IS':
      return value === undefined ? 'A value must be provided' : null;
  }
}

function readUpgradeStrategy(input: Json, problems: Problems): AppSpec['upgradeStrategy'] {
  const strategy = readObject(input, 'upgradeStrategy', '', problems) ?? {};
  const path = '/upgradeStrategy';
  const minimum = strategy.minimumHealthCapacity;
  const maximum = strategy.maximumOverCapacity;
  if (typeof minimum === 'number' && minimum > 1) problems.add(`${path}/minimumHealthCapacity`, 'is greater than 1');
  if (typeof maximum === 'number' && maximum > 1) problems.add(`${path}/maximumOverCapacity`, 'is greater than 1');
  return {
    minimumHealthCapacity:
      readNumber(strategy, 'minimumHealthCapacity', path, problems, { min: 0 }) ?? appDefaults.minimumHealthCapacity,
    maximumOverCapacity:
      readNumber(strategy, 'maximumOverCapacity', path, problems, { min: 0 }) ?? appDefaults.maximumOverCapacity,
  };
}

function readKillSelection(input: Json, problems: Problems): AppSpec['killSelection'] {
  const value = readString(input, 'killSelection', '', problems);
  if (value === undefined || value === null) return appDefaults.killSelection;
  if (value !== 'YOUNGEST_FIRST' && value !== 'OLDEST_FIRST') {
    problems.add('/killSelection', 'error.expected.jsstring: one of YOUNGEST_FIRST, OLDEST_FIRST');
    return appDefaults.killSelection;
  }
  return value;
}

function readUnreachableStrategy(input: Json, problems: Problems): UnreachableStrategy {
  const value = input.unreachableStrategy;
  if (value === undefined || value === null) {
    return {
      inactiveAfterSeconds: appDefaults.inactiveAfterSeconds,
      expungeAfterSeconds: appDefaults.expungeAfterSeconds,
    };
  }
  if (value === 'disabled') return 'disabled';
  if (!isObject(value)) {
    problems.wrongType('/unreachableStrategy', 'jsobject');
    return 'disabled';
  }
  const path = '/unreachableStrategy';
  const inactive = readNumber(value, 'inactiveAfterSeconds', path, problems, { min: 0, integer: true }) ?? 0;
  const expunge = readNumber(value, 'expungeAfterSeconds', path, problems, { min: 0, integer: true }) ?? 0;
  if (expunge < inactive)
    problems.add(`${path}/expungeAfterSeconds`, 'must be greater than or equal to inactiveAfterSeconds');
  return { inactiveAfterSeconds: inactive, expungeAfterSeconds: expunge };
}

function readDependencies(input: Json, problems: Problems): AppId[] {
  const list = readStringList(input, 'dependencies', '', problems, 64) ?? [];
  const out: AppId[] = [];
  list.forEach((item, index) => {
    const parsed = parseAppId(item);
    if ('error' in parsed) problems.add(`/dependencies(${index})`, parsed.error);
    else out.push(parsed.id);
  });
  return out;
}

function readHealthChecks(input: Json, problems: Problems): HealthCheck[] {
  const list = readArray(input, 'healthChecks', '', problems, 16) ?? [];
  if (list.length > maxHealthChecks) {
    problems.add('/healthChecks', `Flotilla runs at most ${maxHealthChecks} Mesos health check per task`);
    return [];
  }
  return list.flatMap((item, index) => {
    const path = `/healthChecks(${index})`;
    if (!isObject(item)) {
      problems.wrongType(path, 'jsobject');
      return [];
    }
    return [readHealthCheck(item, path, problems)];
  });
}

function readHealthCheck(check: Json, path: string, problems: Problems): HealthCheck {
  const protocol = (readString(check, 'protocol', path, problems) ?? 'HTTP') as HealthCheckProtocol;
  if (!healthCheckProtocols.includes(protocol)) problems.add(`${path}/protocol`, `unknown protocol ${protocol}`);
  if (protocol === 'HTTPS' || protocol === 'MESOS_HTTPS') {
    problems.add(`${path}/protocol`, 'HTTPS health checks are not supported by Flotilla agents');
  }
  const command = readObject(check, 'command', path, problems);
  const commandValue =
    command === undefined ? null : (readString(command, 'value', `${path}/command`, problems) ?? null);
  if (protocol === 'COMMAND' && commandValue === null) problems.add(`${path}/command`, 'error.path.missing');
  const port = readNumber(check, 'port', path, problems, { min: 0, max: 65535, integer: true }) ?? null;
  const portIndex = readNumber(check, 'portIndex', path, problems, { min: 0, integer: true }) ?? null;
  const number = (name: keyof typeof healthCheckDefaults): number =>
    readNumber(check, name, path, problems, { min: 0, integer: true }) ?? healthCheckDefaults[name];
  return {
    protocol,
    path: readString(check, 'path', path, problems) ?? (protocol.includes('HTTP') ? '/' : null),
    portIndex: portIndex ?? (port === null && protocol !== 'COMMAND' ? 0 : null),
    port,
    command: commandValue,
    gracePeriodSeconds: number('gracePeriodSeconds'),
    intervalSeconds: number('intervalSeconds'),
    timeoutSeconds: number('timeoutSeconds'),
    maxConsecutiveFailures: number('maxConsecutiveFailures'),
    delaySeconds: number('delaySeconds'),
    ignoreHttp1xx: readBoolean(check, 'ignoreHttp1xx', path, problems) ?? false,
  };
}

function readLabels(input: Json, path: string, problems: Problems): Record<string, string> {
  return readStringMap(input, 'labels', path, problems, maxLabels) ?? {};
}

function readPortDefinitions(input: Json, problems: Problems, networks: AppSpec['networks']): PortDefinition[] {
  if (networks.some((network) => network.mode !== 'host')) return [];
  const definitions = readArray(input, 'portDefinitions', '', problems, maxPortDefinitions);
  const ports = readArray(input, 'ports', '', problems, maxPortDefinitions);
  // Marathon refuses both only when they differ: a GET-modify-PUT echoes `ports` beside the
  // `portDefinitions` it came from (AppDefinition's extra reads; marathon-python's update_app).
  if (definitions !== undefined && ports !== undefined && ports.length > 0 && definitions.length > 0) {
    const declared = definitions.map((item) => (isObject(item) ? item.port : undefined));
    const same = declared.length === ports.length && declared.every((port, index) => port === ports[index]);
    if (!same) problems.add('/', "You cannot specify both 'ports' and 'portDefinitions'");
  }
  if (definitions === undefined && ports !== undefined) {
    return ports.flatMap((port, index) => {
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
        problems.add(`/ports(${index})`, 'must be a port number from 0 to 65535');
        return [];
      }
      return [{ port, protocol: 'tcp', name: null, labels: {} }];
    });
  }
  // Marathon's default for an app that says nothing: one dynamic port (DefaultPortDefinitions).
  const list = definitions ?? [{ port: 0 }];
  return list.flatMap((item, index) => {
    const path = `/portDefinitions(${index})`;
    if (!isObject(item)) {
      problems.wrongType(path, 'jsobject');
      return [];
    }
    return [
      {
        port: readNumber(item, 'port', path, problems, { min: 0, max: 65535, integer: true }) ?? 0,
        protocol: readString(item, 'protocol', path, problems) ?? 'tcp',
        name: readString(item, 'name', path, problems) ?? null,
        labels: readLabels(item, path, problems),
      },
    ];
  });
}

function readNetworks(input: Json, problems: Problems, container: Container | null): AppSpec['networks'] {
  const list = readArray(input, 'networks', '', problems, 8);
  const legacy = readDockerNetwork(input);
  if (list === undefined || list.length === 0) {
    if (legacy === 'BRIDGE') return [{ mode: 'container/bridge' }];
    if (container !== null && container.portMappings.length > 0 && legacy === null)
      return [{ mode: 'container/bridge' }];
    return [{ mode: 'host' }];
  }
  return list.flatMap((item, index) => {
    const path = `/networks(${index})`;
    if (!isObject(item)) {
      problems.wrongType(path, 'jsobject');
      return [];
    }
    const mode = (readString(item, 'mode', path, problems) ?? 'container') as NetworkMode;
    if (mode !== 'host' && mode !== 'container/bridge') {
      problems.add(`${path}/mode`, 'Flotilla agents run host and container/bridge networks only');
      return [];
    }
    return [{ mode }];
  });
}

function readDockerNetwork(input: Json): string | null {
  const container = input.container;
  if (!isObject(container) || !isObject(container.docker)) return null;
  return typeof container.docker.network === 'string' ? container.docker.network : null;
}

function readContainer(input: Json, problems: Problems): Container | null {
  const container = readObject(input, 'container', '', problems);
  if (container === undefined) return null;
  const path = '/container';
  const type = readString(container, 'type', path, problems) ?? 'DOCKER';
  if (type !== 'DOCKER' && type !== 'MESOS') problems.add(`${path}/type`, 'must be DOCKER or MESOS');
  const docker = readObject(container, 'docker', path, problems);
  const mappings =
    readArray(container, 'portMappings', path, problems, maxPortDefinitions) ??
    (docker === undefined
      ? undefined
      : readArray(docker, 'portMappings', `${path}/docker`, problems, maxPortDefinitions));
  return {
    type: type === 'MESOS' ? 'MESOS' : 'DOCKER',
    docker: docker === undefined ? null : readDocker(docker, `${path}/docker`, problems),
    portMappings: (mappings ?? []).flatMap((item, index) =>
      readPortMapping(item, `${path}/portMappings(${index})`, problems),
    ),
    volumes: (readArray(container, 'volumes', path, problems, 64) ?? []).flatMap((item, index) =>
      readVolume(item, `${path}/volumes(${index})`, problems),
    ),
  };
}

function readDocker(docker: Json, path: string, problems: Problems): NonNullable<Container['docker']> {
  const image = readString(docker, 'image', path, problems);
  if (image === undefined || image === null || image === '') problems.add(`${path}/image`, 'must not be empty');
  const network = readString(docker, 'network', path, problems) ?? null;
  if (network !== null && !['HOST', 'BRIDGE', 'NONE'].includes(network)) {
    problems.add(`${path}/network`, 'Flotilla agents run HOST, BRIDGE and NONE Docker networks only');
  }
  const parameters = readArray(docker, 'parameters', path, problems, 64) ?? [];
  return {
    image: image ?? '',
    network: network as 'HOST' | 'BRIDGE' | 'NONE' | null,
    privileged: readBoolean(docker, 'privileged', path, problems) ?? false,
    forcePullImage: readBoolean(docker, 'forcePullImage', path, problems) ?? false,
    parameters: parameters.flatMap((item, index) => {
      if (isObject(item) && typeof item.key === 'string' && typeof item.value === 'string') {
        return [{ key: item.key, value: item.value }];
      }
      problems.add(`${path}/parameters(${index})`, 'must be {"key","value"} strings');
      return [];
    }),
  };
}

function readPortMapping(item: unknown, path: string, problems: Problems): PortMapping[] {
  if (!isObject(item)) {
    problems.wrongType(path, 'jsobject');
    return [];
  }
  const port = (name: string): number =>
    readNumber(item, name, path, problems, { min: 0, max: 65535, integer: true }) ?? 0;
  return [
    {
      containerPort: port('containerPort'),
      hostPort: port('hostPort'),
      servicePort: port('servicePort'),
      protocol: readString(item, 'protocol', path, problems) ?? 'tcp',
      name: readString(item, 'name', path, problems) ?? null,
      labels: readLabels(item, path, problems),
    },
  ];
}

function readVolume(item: unknown, path: string, problems: Problems): Volume[] {
  if (!isObject(item)) {
    problems.wrongType(path, 'jsobject');
    return [];
  }
  if (item.persistent !== undefined || item.external !== undefined) {
    problems.add(path, 'persistent and external volumes are not supported by Flotilla');
    return [];
  }
  const containerPath = readString(item, 'containerPath', path, problems);
  const hostPath = readString(item, 'hostPath', path, problems);
  const mode = readString(item, 'mode', path, problems) ?? 'RW';
  if (!containerPath) problems.add(`${path}/containerPath`, 'must not be empty');
  if (!hostPath) problems.add(`${path}/hostPath`, 'must not be empty');
  if (mode !== 'RO' && mode !== 'RW') problems.add(`${path}/mode`, 'must be RO or RW');
  return [{ containerPath: containerPath ?? '', hostPath: hostPath ?? '', mode: mode === 'RO' ? 'RO' : 'RW' }];
}

/** Features Flotilla's agents do not have: a clear 422, never a silent drop. */
function refuseUnsupported(input: Json, problems: Problems): void {
  const nonEmpty = (name: string): boolean => {
    const value = input[name];
    if (value === undefined || value === null) return false;
    if (Array.isArray(value)) return value.length > 0;
    if (isObject(value)) return Object.keys(value).length > 0;
    return true;
  };
  if (nonEmpty('readinessChecks')) problems.add('/readinessChecks', 'readiness checks are not supported by Flotilla');
  if (nonEmpty('secrets')) problems.add('/secrets', 'secrets are not supported by Flotilla');
  if (nonEmpty('residency')) problems.add('/residency', 'resident apps are not supported by Flotilla');
  if (nonEmpty('ipAddress')) problems.add('/ipAddress', 'IP-per-task is not supported by Flotilla; use networks');
}
