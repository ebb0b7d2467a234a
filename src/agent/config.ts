// Every option of an agent, once (src/util/options.ts): `flotilla agent` builds its flags and
// --help from this table, the daemon (daemon.ts) takes the checked AgentConfig made from it, and
// the agent's GET_FLAGS lists it. Never rename a flag (add an alias).
import { authOptions, type AuthSettings, resolveAuthSettings } from '../auth/options.ts';
import type { ContainerizerKind } from './containerizer/types.ts';
import { statSync } from 'node:fs';
import path from 'node:path';
import { parseAttributesFlag, parseResourcesFlag } from './resources.ts';
import {
  addressOption,
  customOption,
  negatedSwitchOption,
  optionalTextOption,
  parseHostPort,
  textOption,
  wholeOption,
} from '../util/option-kinds.ts';
import {
  checkSchema,
  flagsRecord,
  OptionError,
  type OptionValues,
  optionValues,
  parseOptions,
} from '../util/options.ts';
import { developmentSecret, readSecretFile, SecretFileError } from '../util/shared-secret.ts';
import type { TlsIdentity } from '../util/tls.ts';
import { resolveTlsIdentity, tlsOptions } from '../util/tls-options.ts';

const containerizerKinds: readonly ContainerizerKind[] = ['process', 'docker'];

function parseMasters(text: string): readonly string[] {
  const masters = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (masters.length === 0) throw new Error('no master is listed');
  for (const master of masters) if (parseHostPort(master) === null) throw new Error(`"${master}" is not host:port`);
  return masters;
}

function parseContainerizers(text: string): readonly ContainerizerKind[] {
  const kinds = [
    ...new Set(
      text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    ),
  ];
  if (kinds.length === 0) throw new Error('no containerizer is listed');
  for (const kind of kinds)
    if (!(containerizerKinds as readonly string[]).includes(kind))
      throw new Error(`"${kind}" is neither process nor docker`);
  return kinds as ContainerizerKind[];
}

function parseVolumeAllowlist(text: string): readonly string[] {
  const folders = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const folder of folders) {
    if (!path.isAbsolute(folder)) throw new Error(`"${folder}" is not absolute`);
    if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory())
      throw new Error(`"${folder}" is not an existing folder`);
  }
  return folders;
}

/** A Mesos-style spec checked by its parser; kept as text (the daemon parses it where it is used). */
function checkedSpec(parse: (text: string) => unknown): (text: string) => string {
  return (text) => {
    parse(text);
    return text;
  };
}

/** Strips the flag a resources/attributes parser names itself, as the option error names it again. */
const withoutFlag = (message: string): string => message.replace(/^--[a-z-]+:? ?/, '');

export const agentOptions = {
  masters: customOption({
    flag: 'masters',
    placeholder: '<list>',
    required: true,
    description: 'every master, host:port,host:port,… (the agent finds the leader)',
    absent: [],
    parse: parseMasters,
    show: (masters) => masters.join(','),
  }),
  workDir: textOption({
    flag: 'work-dir',
    placeholder: '<dir>',
    required: true,
    description: 'where the checkpoint (agent.db) and the task sandboxes live',
  }),
  resources: customOption({
    flag: 'resources',
    placeholder: '<spec>',
    description:
      'e.g. "cpus:4;mem:8192;disk:20000;ports:[31000-32000]" (name(role):value reserves); what is left out is detected',
    absent: '',
    parse: checkedSpec((text) => {
      try {
        return parseResourcesFlag(text);
      } catch (error) {
        throw new Error(withoutFlag((error as Error).message));
      }
    }),
    show: (text) => text,
  }),
  attributes: customOption({
    flag: 'attributes',
    placeholder: '<spec>',
    description: 'e.g. "rack:r1;zone:dc1"',
    absent: '',
    parse: checkedSpec((text) => {
      try {
        return parseAttributesFlag(text);
      } catch (error) {
        throw new Error(withoutFlag((error as Error).message));
      }
    }),
    show: (text) => text,
  }),
  zone: optionalTextOption({
    flag: 'zone',
    placeholder: '<zone>',
    description: "this agent's zone; masters in it are preferred for discovery (default: the zone attribute)",
  }),
  containerizers: customOption({
    flag: 'containerizers',
    placeholder: '<list>',
    default: 'process',
    description: 'process and/or docker (DOCKER_HOST or the default socket)',
    absent: ['process'],
    parse: parseContainerizers,
    show: (kinds) => kinds.join(','),
  }),
  listen: addressOption({
    flag: 'listen',
    placeholder: '<host:port>',
    default: '127.0.0.1:5055',
    description: "address of the agent's HTTP API (also what the masters advertise in offers)",
  }),
  hostname: optionalTextOption({
    flag: 'hostname',
    placeholder: '<name>',
    description: "hostname to advertise (default: the machine's)",
  }),
  clusterSecretFile: optionalTextOption({
    flag: 'cluster-secret-file',
    placeholder: '<file>',
    description: 'file holding the cluster secret the masters were given (without it: the development secret)',
  }),
  ...authOptions,
  ...tlsOptions,
  killGracePeriodMs: wholeOption({
    flag: 'kill-grace-period-ms',
    placeholder: '<ms>',
    default: 3_000,
    minimum: 0,
    maximum: 3_600_000,
    description: 'SIGTERM→SIGKILL grace for tasks that set no kill policy',
  }),
  usageIntervalMs: wholeOption({
    flag: 'usage-interval-ms',
    placeholder: '<ms>',
    default: 5_000,
    minimum: 100,
    maximum: 3_600_000,
    description: 'how often task usage is sampled and sent to the master',
  }),
  executorRegistrationTimeoutMs: wholeOption({
    flag: 'executor-registration-timeout-ms',
    placeholder: '<ms>',
    default: 60_000,
    minimum: 100,
    maximum: 3_600_000,
    description:
      "a framework's executor must SUBSCRIBE this long after it started (Mesos --executor_registration_timeout)",
  }),
  executorRecoveryTimeoutMs: wholeOption({
    flag: 'executor-recovery-timeout-ms',
    placeholder: '<ms>',
    default: 900_000,
    minimum: 100,
    maximum: 86_400_000,
    description:
      'a disconnected executor must SUBSCRIBE again within this, else its tasks are lost (MESOS_RECOVERY_TIMEOUT)',
  }),
  executorShutdownGracePeriodMs: wholeOption({
    flag: 'executor-shutdown-grace-period-ms',
    placeholder: '<ms>',
    default: 5_000,
    minimum: 0,
    maximum: 3_600_000,
    description:
      'SHUTDOWN→kill grace for executors whose ExecutorInfo sets none (MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD)',
  }),
  executorIdleTimeoutMs: wholeOption({
    flag: 'executor-idle-timeout-ms',
    placeholder: '<ms>',
    default: 5_000,
    minimum: 0,
    maximum: 3_600_000,
    description: "a framework's executor with no task left is shut down after this long",
  }),
  switchUser: negatedSwitchOption({
    flag: 'no-switch-user',
    description:
      "run every task as the agent's own user, whatever user it names (Mesos --no-switch_user); by default a " +
      "root agent runs a task as its command's user, else its framework's",
  }),
  rootTasks: negatedSwitchOption({
    flag: 'no-root-tasks',
    description: 'refuse (TASK_FAILED) every task that would run as root, including tasks that name no user',
  }),
  dockerVolumeAllowlist: customOption({
    flag: 'docker-volume-allowlist',
    placeholder: '<paths>',
    description:
      'absolute host folders Docker volumes may mount, comma-separated (their subfolders too); without it, only ' +
      'sandbox-relative volumes',
    absent: [],
    parse: parseVolumeAllowlist,
    show: (folders) => folders.join(','),
  }),
};
checkSchema(agentOptions);

export type AgentOptionValues = OptionValues<typeof agentOptions>;

/** What the agent daemon takes: every option checked, the secret read. */
export interface AgentConfig {
  readonly options: AgentOptionValues;
  /** The cluster secret from --cluster-secret-file, or the development secret without one. */
  readonly secret: string;
  /** --credentials and --acls read, and the listen address judged (src/auth/options.ts). */
  readonly auth: AuthSettings;
  /** --tls-cert, --tls-key, --tls-ca read and checked; null: plain HTTP and WebSocket. */
  readonly tls: TlsIdentity | null;
  /** GET_FLAGS. */
  readonly flags: Readonly<Record<string, string>>;
}

/** From `flotilla agent`'s flags (`given[key]`: a flag's text, undefined when absent). */
export function parseAgentFlags(given: Readonly<Record<string, string | boolean | undefined>>): AgentConfig {
  return resolveAgentConfig(parseOptions(agentOptions, given));
}

/** From values given in code (tests, scripts): checked as flags are, the rest defaulted. */
export function agentConfig(given: Partial<AgentOptionValues>): AgentConfig {
  return resolveAgentConfig(optionValues(agentOptions, given));
}

function resolveAgentConfig(options: AgentOptionValues): AgentConfig {
  if (!options.rootTasks && !options.switchUser && process.getuid?.() === 0) {
    throw new OptionError(
      'no-root-tasks',
      '--no-root-tasks with --no-switch-user on a root agent would refuse every task',
    );
  }
  let secret = developmentSecret;
  if (options.clusterSecretFile !== null) {
    try {
      secret = readSecretFile(options.clusterSecretFile);
    } catch (error) {
      if (!(error instanceof SecretFileError)) throw error;
      throw new OptionError('cluster-secret-file', `--cluster-secret-file ${error.message}`);
    }
  }
  const auth = resolveAuthSettings(options, options.listen.host);
  const tls = resolveTlsIdentity(options);
  return { options, secret, auth, tls, flags: flagsRecord(agentOptions, options) };
}
