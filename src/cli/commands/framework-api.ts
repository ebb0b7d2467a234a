// How `flotilla services …` and `flotilla jobs …` reach a framework's API (Marathon's, Metronome's).
// By default through the masters, like every other command (--masters / FLOTILLA_MASTERS): the
// leading master hosts the framework and any master forwards to it, so the cluster client's
// rules apply — the next master when one does not answer, another round after a 503 (no leader
// yet, or the framework still loading its state). With --api (or the framework's environment
// variable) it is one address: the framework run as its own process (`flotilla services`,
// `flotilla jobs`). Either way the answer comes back as it is, for the command to read or to
// refuse in the framework's own words; --timeout-seconds bounds each request. Every write
// carries an Idempotency-Key, the same on each retry of the call, which the frameworks'
// Marathon and Metronome routes honour (src/frameworks/hosting/remembered-requests.ts).
import type { Command } from 'commander';
import { type MasterAddress, MasterAddressError, parseMasterAddress } from '../../frameworks/sdk/masters.ts';
import { type ClusterFlags, resolveMasters, resolveTls, withClusterFlags } from './cluster-command.ts';
import { randomUUID } from 'node:crypto';
import { ClusterClient, idempotencyKeyHeader } from '../client/cluster-client.ts';
import { usageError } from '../client/errors.ts';
import { type HttpRequest, sendRequest, TransportError } from '../client/http.ts';

/** A framework API's answer: the status and the body as text. */
export interface FrameworkAnswer {
  readonly status: number;
  readonly text: string;
}

export interface FrameworkApiFlags extends ClusterFlags {
  readonly api?: string;
}

/** The framework's API could not be reached at the one address given (--api). */
export class FrameworkUnreachableError extends Error {
  override name = 'FrameworkUnreachableError';
}

/** Framework requests get more time than an operator call: a deployment plan or a job list can be long. */
const defaultFrameworkTimeoutMs = 30_000;

export class FrameworkApi {
  private constructor(
    readonly describe: string,
    private readonly send: (request: HttpRequest) => Promise<FrameworkAnswer>,
  ) {}

  /** Through the masters, unless `--api` or the environment variable `apiVariable` names an address. */
  static fromFlags(flags: FrameworkApiFlags, apiVariable: string, environment: NodeJS.ProcessEnv): FrameworkApi {
    const timeoutMs = flags.timeoutSeconds === undefined ? defaultFrameworkTimeoutMs : flags.timeoutSeconds * 1000;
    const given = flags.api ?? (environment[apiVariable] || undefined);
    if (given !== undefined)
      return FrameworkApi.direct(apiAddress(given, flags.api === undefined ? apiVariable : '--api'), timeoutMs);
    const client = new ClusterClient({
      masters: resolveMasters(flags.masters, environment),
      timeoutMs,
      tls: resolveTls(flags, environment),
    });
    return new FrameworkApi(`the masters (${client.masters.join(',')})`, async (request) => {
      const answer = await client.request({ ...request, mutating: request.method !== 'GET' });
      return { status: answer.status, text: answer.body };
    });
  }

  static direct(address: MasterAddress, timeoutMs: number): FrameworkApi {
    return new FrameworkApi(address, async (request) => {
      // One key per logical call, as through the masters (cluster-client.ts): a retry by hand
      // of the same command is a new call, but a repeat of this request is not applied twice.
      const key: Record<string, string> = request.method === 'GET' ? {} : { [idempotencyKeyHeader]: randomUUID() };
      try {
        const answer = await sendRequest(address, { ...request, headers: { ...request.headers, ...key }, timeoutMs });
        return { status: answer.status, text: answer.body };
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        throw new FrameworkUnreachableError(error.message);
      }
    });
  }

  call(method: HttpRequest['method'], path: string, body?: unknown): Promise<FrameworkAnswer> {
    return this.send({ method, path, ...(body === undefined ? {} : { body: body as object }) });
  }
}

function apiAddress(text: string, source: string): MasterAddress {
  try {
    return parseMasterAddress(text);
  } catch (error) {
    if (!(error instanceof MasterAddressError)) throw error;
    throw usageError(`${source}: ${error.message}`, 'give the API as host:port');
  }
}

/** The flags of every framework subcommand: the cluster's (--masters, --json, --timeout-seconds) and --api. */
export function withFrameworkFlags(command: Command, what: string): Command {
  return withClusterFlags(command).option('--api <host:port>', what);
}

/**
 * The subcommand's flags with its parent's: `flotilla services --masters X list` and `… list
 * --masters X` both mean the same (the parent command, which runs the framework as its own
 * process, has a --masters of its own and takes the flag wherever it is written).
 */
export function frameworkFlags<Flags extends FrameworkApiFlags>(command: Command): Flags {
  return command.optsWithGlobals() as Flags;
}
