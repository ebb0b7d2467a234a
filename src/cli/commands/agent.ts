// `flotilla agent`: the daemon that offers a machine's resources and runs tasks (src/agent).
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { Agent, agentDefaults } from '../../agent/agent.ts';
import { CheckpointError } from '../../agent/checkpoint.ts';
import { DockerContainerizer } from '../../agent/containerizer/docker.ts';
import { ProcessContainerizer } from '../../agent/containerizer/process.ts';
import type { Containerizer, ContainerizerKind } from '../../agent/containerizer/types.ts';
import { healthCheckStarter } from '../../agent/health-watch.ts';
import { AgentFlagError, detectResources, parseAttributesFlag, parseResourcesFlag } from '../../agent/resources.ts';
import { createLogger, type Logger } from '../../util/logger.ts';
import { developmentSecret, readSecretFile, SecretFileError } from '../../util/shared-secret.ts';
import type { CommandRegistration } from './types.ts';

interface AgentFlags {
  masters: string;
  workDir: string;
  resources?: string;
  attributes?: string;
  zone?: string;
  containerizers: string;
  listen: string;
  hostname?: string;
  killGracePeriodMs: string;
  usageIntervalMs: string;
  clusterSecretFile?: string;
  switchUser: boolean;
  rootTasks: boolean;
  dockerVolumeAllowlist?: string;
}

export const registerAgentCommand: CommandRegistration = (program: Command) => {
  program
    .command('agent')
    .description("run an agent: offer this machine's resources to the masters and run tasks")
    .requiredOption('--masters <list>', 'every master, host:port,host:port,… (the agent finds the leader)')
    .requiredOption('--work-dir <dir>', 'where the checkpoint (agent.db) and the task sandboxes live')
    .option(
      '--resources <spec>',
      'e.g. "cpus:4;mem:8192;disk:20000;ports:[31000-32000]" (name(role):value reserves); what is left out is detected',
    )
    .option('--attributes <spec>', 'e.g. "rack:r1;zone:dc1"')
    .option(
      '--zone <zone>',
      "this agent's zone; masters in it are preferred for discovery (default: the zone attribute)",
    )
    .option('--containerizers <list>', 'process and/or docker (DOCKER_HOST or the default socket)', 'process')
    .option(
      '--listen <host:port>',
      "address of the agent's HTTP API (also what the masters advertise in offers)",
      agentDefaults.listen,
    )
    .option('--hostname <name>', "hostname to advertise (default: the machine's)")
    .option(
      '--cluster-secret-file <file>',
      'file holding the cluster secret the masters were given (without it: the development secret)',
    )
    .option(
      '--kill-grace-period-ms <ms>',
      'SIGTERM→SIGKILL grace for tasks that set no kill policy',
      String(agentDefaults.defaultKillGracePeriodMs),
    )
    .option(
      '--usage-interval-ms <ms>',
      'how often task usage is sampled and sent to the master',
      String(agentDefaults.usageIntervalMs),
    )
    .option(
      '--no-switch-user',
      "run every task as the agent's own user, whatever user it names (Mesos --no-switch_user); by default a " +
        "root agent runs a task as its command's user, else its framework's",
    )
    .option(
      '--no-root-tasks',
      'refuse (TASK_FAILED) every task that would run as root, including tasks that name no user',
    )
    .option(
      '--docker-volume-allowlist <paths>',
      'absolute host folders Docker volumes may mount, comma-separated (their subfolders too); without it, only ' +
        'sandbox-relative volumes',
    )
    .action(async (flags: AgentFlags) => {
      const logger = createLogger({ node: flags.hostname ?? `agent@${flags.listen}`, component: 'agent' });
      try {
        await runAgent(flags, logger);
      } catch (error) {
        if (error instanceof AgentFlagError || error instanceof SecretFileError) fail(error.message, 2);
        // A corrupted checkpoint, a port in use: say what and where, then stop.
        const kind = error instanceof CheckpointError ? 'checkpoint' : 'start';
        logger.fatal({ error: (error as Error).message, kind }, 'cannot start');
        fail(`cannot start: ${(error as Error).message}`, 1);
      }
    });
};

function fail(message: string, code: number): never {
  process.stderr.write(`flotilla agent: ${message}\n`);
  process.exit(code);
}

function parseMasters(text: string): string[] {
  const masters = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (masters.length === 0) throw new AgentFlagError('--masters is empty');
  for (const master of masters)
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(master)) throw new AgentFlagError(`--masters: "${master}" is not host:port`);
  return masters;
}

function parseWhole(value: string, flag: string, minimum: number): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < minimum)
    throw new AgentFlagError(`${flag} must be a whole number of at least ${minimum}, got "${value}"`);
  return Number(value);
}

/** --no-root-tasks with --no-switch-user on a root agent would refuse every task: a flag mistake. */
function checkRootTasks(flags: AgentFlags): boolean {
  if (!flags.rootTasks && !flags.switchUser && process.getuid?.() === 0)
    throw new AgentFlagError('--no-root-tasks with --no-switch-user on a root agent would refuse every task');
  return flags.rootTasks;
}

function parseAllowlist(text: string | undefined): string[] {
  const paths = (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  for (const entry of paths) {
    if (!path.isAbsolute(entry)) throw new AgentFlagError(`--docker-volume-allowlist: "${entry}" is not absolute`);
    if (!statSync(entry, { throwIfNoEntry: false })?.isDirectory())
      throw new AgentFlagError(`--docker-volume-allowlist: "${entry}" is not an existing folder`);
  }
  return paths;
}

function buildContainerizers(
  text: string,
  volumeAllowlist: readonly string[],
  logger: Logger,
): Map<ContainerizerKind, Containerizer> {
  const containerizers = new Map<ContainerizerKind, Containerizer>();
  for (const kind of text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')) {
    if (kind === 'process')
      containerizers.set(kind, new ProcessContainerizer({ logger: logger.child({ containerizer: 'process' }) }));
    else if (kind === 'docker')
      containerizers.set(
        kind,
        new DockerContainerizer({ logger: logger.child({ containerizer: 'docker' }), volumeAllowlist }),
      );
    else throw new AgentFlagError(`--containerizers: "${kind}" is neither process nor docker`);
  }
  if (containerizers.size === 0) throw new AgentFlagError('--containerizers is empty');
  return containerizers;
}

async function runAgent(flags: AgentFlags, logger: Logger): Promise<void> {
  const listen = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(flags.listen);
  if (!listen || Number(listen[2]) < 1 || Number(listen[2]) > 65535)
    throw new AgentFlagError(`--listen must be host:port, got "${flags.listen}"`);
  const attributes = parseAttributesFlag(flags.attributes ?? '');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(flags.workDir, { recursive: true });
  let secret = developmentSecret;
  if (flags.clusterSecretFile === undefined)
    logger.warn({}, 'no --cluster-secret-file: using the development secret, as masters without one do');
  else secret = readSecretFile(flags.clusterSecretFile);
  const agent = await Agent.start({
    masters: parseMasters(flags.masters),
    workDir: flags.workDir,
    secret,
    resources: detectResources(flags.workDir, parseResourcesFlag(flags.resources ?? '')),
    attributes,
    zone: flags.zone ?? attributes.zone ?? null,
    hostname: flags.hostname ?? os.hostname(),
    listenHost: listen[1]!,
    listenPort: Number(listen[2]),
    containerizers: buildContainerizers(flags.containerizers, parseAllowlist(flags.dockerVolumeAllowlist), logger),
    startHealthCheck: healthCheckStarter(logger.child({ subsystem: 'health' })),
    defaultKillGracePeriodMs: parseWhole(flags.killGracePeriodMs, '--kill-grace-period-ms', 0),
    switchUser: flags.switchUser,
    allowRootTasks: checkRootTasks(flags),
    usageIntervalMs: parseWhole(flags.usageIntervalMs, '--usage-interval-ms', 100),
    logger,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping (tasks keep running)');
    void agent.stop().then(
      () => process.exit(process.exitCode ?? 0),
      (error: Error) => {
        logger.error({ error: error.message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
