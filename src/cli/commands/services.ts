// `flotilla services`: with no subcommand, run the services framework (Marathon API) as its own
// process (startServicesDaemon); with one, talk to its Marathon API — through the masters
// (--masters / FLOTILLA_MASTERS: the leader hosts it, any master forwards), or at --api:
//   list | show ID | deploy FILE | scale ID N | restart ID | delete ID
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import {
  defaultMasters,
  parseMasterAddress,
  parseMasterList,
  splitMasterAddress,
} from '../../frameworks/sdk/masters.ts';
import { defaultNamespace, startServicesDaemon } from '../../frameworks/services/daemon.ts';
import {
  defaultLeaseTtlMs,
  defaultMaxRunningDeployments,
  defaultTaskLaunchTimeoutMs,
} from '../../frameworks/services/limits.ts';
import { CliError } from '../client/errors.ts';
import { MarathonCallError, MarathonClient } from '../services/marathon-client.ts';
import { printApp, printApps } from '../services/format.ts';
import { type CredentialFlags, frameworkCredentials } from '../client/credentials.ts';
import { daemonTls } from './cluster-command.ts';
import { reportFailure } from './cluster-command.ts';
import { FrameworkApi, type FrameworkApiFlags, frameworkFlags, withFrameworkFlags } from './framework-api.ts';
import type { CommandRegistration } from './types.ts';

interface DaemonFlags extends CredentialFlags {
  masters?: string;
  tlsCa?: string;
  listen: string;
  advertise?: string;
  namespace: string;
  role: string;
  frameworkName: string;
  leaseTtlMs: number;
  maxRunningDeployments: number;
  taskLaunchTimeoutMs: number;
}

interface ClientFlags extends FrameworkApiFlags {
  readonly force?: boolean;
}

/** The address of a services process run on its own, when --api is not given. */
const apiVariable = 'FLOTILLA_SERVICES_API';

const defaultListen = '127.0.0.1:8080';

function positiveInteger(flag: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError(`${flag} must be a whole number ≥ 1`);
    return value;
  };
}

export const registerServicesCommand: CommandRegistration = (program: Command) => {
  const services = program
    .command('services')
    .description('run the services framework (Marathon API) or, with a subcommand, manage its apps')
    .option('--masters <list>', 'masters host:port,… (default $FLOTILLA_MASTERS, else the three local ones)')
    .option('--listen <host:port>', 'where to serve the Marathon API', defaultListen)
    .option('--advertise <host:port>', 'the address other instances proxy to (default: --listen)')
    .option('--namespace <name>', 'the KV namespace holding the framework state', defaultNamespace)
    .option('--role <role>', 'the role the framework subscribes with', '*')
    .option('--tls-ca <file>', 'masters with --tls-*: speak HTTPS trusting this PEM CA (default $FLOTILLA_TLS_CA)')
    .option('--principal <name>', "the framework's principal (default $FLOTILLA_PRINCIPAL)")
    .option('--secret-file <file>', "the principal's secret (default $FLOTILLA_SECRET)")
    .option('--framework-name <name>', 'the framework name the masters show', 'flotilla-services')
    .option(
      '--lease-ttl-ms <ms>',
      'leadership lease: a standby takes over after this long',
      positiveInteger('--lease-ttl-ms'),
      defaultLeaseTtlMs,
    )
    .option(
      '--max-running-deployments <n>',
      "Marathon's --max_running_deployments",
      positiveInteger('--max-running-deployments'),
      defaultMaxRunningDeployments,
    )
    .option(
      '--task-launch-timeout-ms <ms>',
      "Marathon's --task_launch_timeout: an instance not running after this long is killed and replaced",
      positiveInteger('--task-launch-timeout-ms'),
      defaultTaskLaunchTimeoutMs,
    )
    .action(async (flags: DaemonFlags) => runDaemon(flags));
  registerClientCommands(services);
};

async function runDaemon(flags: DaemonFlags): Promise<void> {
  let listen: { host: string; port: number };
  try {
    listen = splitMasterAddress(parseMasterAddress(flags.listen));
  } catch (error) {
    process.stderr.write(`flotilla services: --listen: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const { host, port } = listen;
  let credentials: ReturnType<typeof frameworkCredentials>;
  try {
    credentials = frameworkCredentials(flags, process.env);
  } catch (error) {
    process.stderr.write(`flotilla services: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const daemon = await startServicesDaemon({
    ...(credentials === undefined ? {} : { credentials }),
    tls: daemonTls(flags, 'services'),
    masters: parseMasterList(flags.masters ?? (process.env.FLOTILLA_MASTERS || defaultMasters)),
    host,
    port,
    ...(flags.advertise === undefined ? {} : { advertisedAddress: flags.advertise }),
    namespace: flags.namespace,
    role: flags.role,
    frameworkName: flags.frameworkName,
    leaseTtlMs: flags.leaseTtlMs,
    maxRunningDeployments: flags.maxRunningDeployments,
    taskLaunchTimeoutMs: flags.taskLaunchTimeoutMs,
  });
  const shutdown = (): void => {
    void daemon.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

function withClient(run: (client: MarathonClient, flags: ClientFlags, ...args: string[]) => Promise<void>) {
  return async (...parameters: unknown[]): Promise<void> => {
    const command = parameters[parameters.length - 1] as Command;
    const flags = frameworkFlags<ClientFlags>(command);
    const args = parameters.slice(0, -2).map(String);
    try {
      await run(new MarathonClient(FrameworkApi.fromFlags(flags, apiVariable, process.env)), flags, ...args);
    } catch (error) {
      if (error instanceof CliError) process.exit(reportFailure('services', error, flags.json === true));
      if (!(error instanceof MarathonCallError)) throw error;
      process.stderr.write(`flotilla services: ${error.message}\n`);
      process.exit(1);
    }
  };
}

const print = (flags: ClientFlags, value: unknown, text: () => void): void => {
  if (flags.json === true) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else text();
};

function registerClientCommands(services: Command): void {
  const common = (command: Command): Command =>
    withFrameworkFlags(
      command,
      `a services process run on its own (default $${apiVariable}; without either, the masters serve the API)`,
    );
  common(services.command('list').description('apps with their instances, deployments and waiting counts')).action(
    withClient(async (api, flags) => {
      const answer = await api.call<{ apps: Record<string, unknown>[] }>('GET', '/v2/apps?embed=apps.queue');
      print(flags, answer, () => printApps(answer.apps));
    }),
  );
  common(
    services.command('show').argument('<id>').description('one app: instances, deployment, why not placed'),
  ).action(
    withClient(async (api, flags, id) => {
      const answer = await api.call<{ app: Record<string, unknown> }>('GET', `/v2/apps/${trim(id!)}?embed=app.queue`);
      print(flags, answer, () => printApp(answer.app));
    }),
  );
  const deploy = services
    .command('deploy')
    .argument('<file>')
    .description('create or update the app(s) in a JSON file');
  common(deploy.option('--force', 'cancel a deployment that holds the app')).action(
    withClient(async (api, flags, file) => {
      const body = JSON.parse(readFileSync(file!, 'utf8')) as unknown;
      const apps = Array.isArray(body) ? body : [body];
      const answer = await api.call('PUT', `/v2/apps${flags.force === true ? '?force=true' : ''}`, apps);
      print(flags, answer, () =>
        process.stdout.write(`deployment ${(answer as { deploymentId: string }).deploymentId}\n`),
      );
    }),
  );
  const scale = services
    .command('scale')
    .argument('<id>')
    .argument('<instances>')
    .description('set the instance count');
  common(scale.option('--force', 'cancel a deployment that holds the app')).action(
    withClient(async (api, flags, id, count) => {
      const force = flags.force === true ? '?force=true' : '';
      const answer = await api.call('PUT', `/v2/apps/${trim(id!)}${force}`, { instances: Number(count) });
      print(flags, answer, () =>
        process.stdout.write(`deployment ${(answer as { deploymentId: string }).deploymentId}\n`),
      );
    }),
  );
  for (const [name, method, suffix, what] of [
    ['restart', 'POST', '/restart', 'replace every instance (rolling)'],
    ['delete', 'DELETE', '', 'stop and remove the app'],
  ] as const) {
    common(
      services
        .command(name)
        .argument('<id>')
        .description(what)
        .option('--force', 'cancel a deployment that holds the app'),
    ).action(
      withClient(async (api, flags, id) => {
        const force = flags.force === true ? '?force=true' : '';
        const answer = await api.call(method, `/v2/apps/${trim(id!)}${suffix}${force}`);
        print(flags, answer, () =>
          process.stdout.write(`deployment ${(answer as { deploymentId: string }).deploymentId}\n`),
        );
      }),
    );
  }
}

const trim = (id: string): string => id.replace(/^\/+/, '');
