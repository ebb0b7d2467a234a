// What every cluster command shares: the --masters, --json and --timeout-seconds flags, the
// client built from them, the output (colour or not), and the one place that turns a failure
// into a message, a hint and an exit status.
import { maxTimeoutSeconds } from '../limits.ts';
import { type Command, InvalidArgumentError } from 'commander';
import {
  defaultMasters,
  type MasterAddress,
  MasterAddressError,
  parseMasterList,
} from '../../frameworks/sdk/masters.ts';
import { readFileSync } from 'node:fs';
import { ClusterClient } from '../client/cluster-client.ts';
import type { ClientTls } from '../../protocol/tls-client.ts';
import {
  type CliCredentials,
  type CredentialFlags,
  credentialHeaders,
  resolveCredentials,
} from '../client/credentials.ts';
import { CliError, usageError } from '../client/errors.ts';
import { defaultRequestTimeoutMs } from '../client/http.ts';
import { type Colors, colorWanted, makeColors } from '../output/colors.ts';

export interface ClusterFlags extends CredentialFlags {
  readonly masters?: string;
  readonly tlsCa?: string;
  readonly json?: boolean;
  readonly timeoutSeconds?: number;
}

export interface CommandContext {
  readonly client: ClusterClient;
  /** Who the CLI says it is (--principal/--secret-file or the environment), for agents too. */
  readonly credentials: CliCredentials;
  readonly json: boolean;
  readonly colors: Colors;
  /** One block of text on stdout (a newline is added). */
  readonly print: (text: string) => void;
  /** One JSON document on stdout. */
  readonly printJson: (value: unknown) => void;
  /** A notice on stderr, prefixed with the command's name. */
  readonly notice: (text: string) => void;
}

function timeoutSeconds(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || value > maxTimeoutSeconds)
    throw new InvalidArgumentError(`must be a number of seconds in (0, ${maxTimeoutSeconds}], got "${text}"`);
  return value;
}

/** Adds the flags every cluster command takes. */
export function withClusterFlags(command: Command): Command {
  return command
    .option('--masters <list>', 'masters host:port,… (default $FLOTILLA_MASTERS, else the three local ones)')
    .option('--json', 'print JSON instead of text (errors too, on stderr)')
    .option(
      '--timeout-seconds <s>',
      `give up on a master that does not answer within this (default ${defaultRequestTimeoutMs / 1000})`,
      timeoutSeconds,
    )
    .option(
      '--tls-ca <file>',
      'masters with --tls-*: speak HTTPS trusting this PEM CA (default $FLOTILLA_TLS_CA; https:// masters alone ' +
        'trust the system CAs)',
    )
    .option('--principal <name>', 'authenticate as this principal (default $FLOTILLA_PRINCIPAL)')
    .option('--secret-file <file>', "the principal's secret (default $FLOTILLA_SECRET; or a token in $FLOTILLA_TOKEN)");
}

/** The --masters text (or FLOTILLA_MASTERS, or the local default), as given. */
function mastersText(flag: string | undefined, environment: NodeJS.ProcessEnv): string {
  const fromEnvironment = environment.FLOTILLA_MASTERS;
  return flag ?? (fromEnvironment === undefined || fromEnvironment === '' ? defaultMasters : fromEnvironment);
}

const httpsPrefix = /^\s*https:\/\//i;

export function resolveMasters(flag: string | undefined, environment: NodeJS.ProcessEnv): MasterAddress[] {
  const text = mastersText(flag, environment);
  try {
    // https://host:port names the scheme (resolveTls); the address is what follows.
    const addresses = text
      .split(',')
      .map((part) => part.replace(httpsPrefix, '').replace(/\/+$/, ''))
      .join(',');
    return parseMasterList(addresses);
  } catch (error) {
    if (!(error instanceof MasterAddressError)) throw error;
    throw usageError(
      `${flag === undefined ? 'FLOTILLA_MASTERS' : '--masters'}: ${error.message}`,
      'give masters as host:port,host:port',
    );
  }
}

/**
 * HTTPS to the masters: with a CA from --tls-ca or FLOTILLA_TLS_CA, or with the system's CAs when
 * the masters are given as https://host:port; null (plain HTTP) otherwise.
 */
export function resolveTls(flags: ClusterFlags, environment: NodeJS.ProcessEnv): ClientTls | null {
  const fromEnvironment = environment.FLOTILLA_TLS_CA;
  const caFile = flags.tlsCa ?? (fromEnvironment === undefined || fromEnvironment === '' ? undefined : fromEnvironment);
  if (caFile === undefined)
    return mastersText(flags.masters, environment)
      .split(',')
      .some((part) => httpsPrefix.test(part))
      ? {}
      : null;
  try {
    return { ca: readFileSync(caFile) };
  } catch (error) {
    throw usageError(
      `${flags.tlsCa === undefined ? 'FLOTILLA_TLS_CA' : '--tls-ca'}: cannot read ${caFile} (${(error as Error).message})`,
      "give the PEM file of the CA that signed the masters' certificates",
    );
  }
}

/** resolveTls for a framework daemon (`flotilla services`, `flotilla jobs`): a bad --tls-ca exits 2 with its message. */
export function daemonTls(flags: ClusterFlags, command: string): ClientTls | null {
  try {
    return resolveTls(flags, process.env);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    process.stderr.write(`flotilla ${command}: ${error.message}\n`);
    process.exit(2);
  }
}

function buildContext(name: string, flags: ClusterFlags): CommandContext {
  const json = flags.json === true;
  const colors = makeColors(!json && colorWanted(process.env, process.stdout));
  const credentials = resolveCredentials(flags, process.env);
  return {
    client: new ClusterClient({
      masters: resolveMasters(flags.masters, process.env),
      timeoutMs: flags.timeoutSeconds === undefined ? undefined : flags.timeoutSeconds * 1000,
      credentials: credentialHeaders(credentials),
      tls: resolveTls(flags, process.env),
    }),
    credentials,
    json,
    colors,
    print: (text) => process.stdout.write(`${text}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    notice: (text) => process.stderr.write(`flotilla ${name}: ${text}\n`),
  };
}

export type CommandBody<Flags extends ClusterFlags> = (
  context: CommandContext,
  args: readonly unknown[],
  flags: Flags,
) => Promise<number>;

/**
 * The commander action for a cluster command: builds the context, runs `body`, and ends the
 * process with its status, or with the failure's message, hint and status.
 */
export function clusterAction<Flags extends ClusterFlags = ClusterFlags>(
  name: string,
  body: CommandBody<Flags>,
): (...parameters: unknown[]) => Promise<void> {
  return async (...parameters) => {
    const command = parameters[parameters.length - 1] as Command;
    const flags = command.opts() as Flags;
    let status: number;
    try {
      status = await body(buildContext(name, flags), parameters.slice(0, -2), flags);
    } catch (error) {
      status = reportFailure(name, error, flags.json === true);
    }
    process.exit(status);
  };
}

/** Prints the failure (JSON on stderr with --json) and returns the exit status. */
export function reportFailure(name: string, error: unknown, json: boolean): number {
  if (!(error instanceof CliError)) {
    // A bug in the CLI: say so with the stack, never as if the cluster had refused something.
    process.stderr.write(`flotilla ${name}: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 70;
  }
  if (json) {
    const body = { error: { code: error.code, message: error.message, hint: error.hint, status: error.status } };
    process.stderr.write(`${JSON.stringify({ ...body, server_code: error.serverCode })}\n`);
  } else {
    process.stderr.write(`flotilla ${name}: ${error.message}\n`);
    if (error.hint !== null) process.stderr.write(`  ${error.hint}\n`);
  }
  return error.exitStatus;
}
