// Following the operator event stream (`POST /api/v1 {"type":"SUBSCRIBE"}`: RecordIO records
// of master.proto Events) across failovers: it subscribes on the leader, notices a stream that
// ends or falls silent for three heartbeat intervals, finds the leader again and resubscribes
// with jittered back-off. Each SUBSCRIBED carries the whole state, so a consumer catches up
// on what changed while it was away by comparing snapshots.
import { maxEventBytes } from '../limits.ts';
import type { IncomingMessage } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import type * as Operator from '../../protocol/operator.ts';
import { RecordIoDecoder } from '../../protocol/recordio.ts';
import { type BackoffPolicy, backoffDelayMs } from '../../util/backoff.ts';
import type { ClusterClient } from './cluster-client.ts';
import { parseErrorBody } from './cluster-client.ts';
import { CliError } from './errors.ts';
import { openRequest, readAnswerBody, TransportError } from './http.ts';
import type { ClientTls } from '../../protocol/tls-client.ts';
import { surveyMasters } from './masters-survey.ts';
import { operatorPath } from './operator.ts';
import { findLeader } from '../views/masters.ts';

export const reconnectBackoff: BackoffPolicy = { baseMs: 200, maxMs: 5_000 };
/** The master's default heartbeat (src/http/limits.ts), used until SUBSCRIBED says otherwise. */
const defaultHeartbeatSeconds = 15;
const missedHeartbeatsAllowed = 3;
const subscribeHeadersTimeoutMs = 10_000;
/** An election takes about a second (README, "Raft timing"); this is several. */
export const leaderWaitMs = 10_000;

export interface EventHandlers {
  readonly onEvent: (event: Operator.Event, master: MasterAddress) => void;
  /** The stream from `master` ended; `error` says why. The follower reconnects after this. */
  readonly onLost: (master: MasterAddress | null, error: Error) => void;
}

/** Runs until `signal` aborts; never rejects for network trouble, only for bugs. */
export async function followOperatorEvents(
  client: ClusterClient,
  handlers: EventHandlers,
  signal: AbortSignal,
  random: () => number = Math.random,
): Promise<void> {
  let failures = 0;
  let leaderlessSinceMs: number | null = null;
  while (!signal.aborted) {
    let master: MasterAddress | null = null;
    try {
      const found = await leaderAddress(client, leaderlessSinceMs);
      leaderlessSinceMs = found.leaderlessSinceMs;
      master = found.address;
      const response = await subscribe(master, client.credentialHeaders, client.tls);
      failures = 0;
      await consume(master, response, handlers, signal);
      if (signal.aborted) return;
      handlers.onLost(master, new Error('the master ended the stream'));
    } catch (error) {
      if (signal.aborted) return;
      if (!(error instanceof CliError || error instanceof TransportError || error instanceof StreamError)) throw error;
      leaderlessSinceMs = error instanceof StreamError ? error.leaderlessSinceMs : null;
      handlers.onLost(master, error);
      failures += 1;
    }
    const delayMs = backoffDelayMs(Math.max(0, failures - 1), reconnectBackoff, random);
    await sleep(delayMs, undefined, { signal }).catch(() => undefined);
  }
}

export class StreamError extends Error {
  override name = 'StreamError';
  constructor(
    message: string,
    /** Set when the stream could not start for want of a leader: since when there has been none. */
    readonly leaderlessSinceMs: number | null = null,
  ) {
    super(message);
  }
}

/**
 * The leader's address. While there is none (an election) this fails, so the caller backs off
 * and asks again; after leaderWaitMs without a leader it settles for any master that answers,
 * since a follower streams the changes it applies too, and an operator without a quorum
 * still wants to see what the masters know.
 */
async function leaderAddress(
  client: ClusterClient,
  leaderlessSinceMs: number | null,
): Promise<{ address: MasterAddress; leaderlessSinceMs: number | null }> {
  const probes = await surveyMasters(client);
  const leader = findLeader(probes);
  const leaderProbe = leader === null ? undefined : probes.find((probe) => probe.view?.id === leader.id);
  if (leaderProbe !== undefined) return { address: leaderProbe.address, leaderlessSinceMs: null };
  const since = leaderlessSinceMs ?? performance.now();
  if (performance.now() - since < leaderWaitMs) throw new StreamError('no master leads yet', since);
  return { address: probes.find((probe) => probe.view !== null)!.address, leaderlessSinceMs: since };
}

async function subscribe(
  master: MasterAddress,
  credentials: Readonly<Record<string, string>>,
  tls: ClientTls | null,
): Promise<IncomingMessage> {
  const response = await openRequest(master, {
    tls,
    method: 'POST',
    path: operatorPath,
    body: { type: 'SUBSCRIBE' },
    headers: { ...credentials, accept: 'application/recordio', 'message-accept': 'application/json' },
    timeoutMs: subscribeHeadersTimeoutMs,
  });
  if (response.statusCode === 200) return response;
  const body = await readAnswerBody(master, response, subscribeHeadersTimeoutMs).catch(() => '');
  const { code, message } = parseErrorBody(body);
  throw new StreamError(`SUBSCRIBE at ${master} answered ${response.statusCode} ${code ?? ''}: ${message}`);
}

async function consume(
  master: MasterAddress,
  response: IncomingMessage,
  handlers: EventHandlers,
  signal: AbortSignal,
): Promise<void> {
  const decoder = new RecordIoDecoder({ maxRecordBytes: maxEventBytes });
  let silenceMs = defaultHeartbeatSeconds * missedHeartbeatsAllowed * 1000;
  let watchdog: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(watchdog);
    watchdog = setTimeout(
      () => response.destroy(new StreamError(`no event from ${master} for ${silenceMs} ms`)),
      silenceMs,
    );
  };
  const abort = (): void => {
    response.destroy();
  };
  signal.addEventListener('abort', abort, { once: true });
  arm();
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      for (const record of decoder.decode(chunk)) {
        const event = JSON.parse(Buffer.from(record).toString('utf8')) as Operator.Event;
        if (event.type === 'SUBSCRIBED')
          silenceMs = event.subscribed.heartbeat_interval_seconds * missedHeartbeatsAllowed * 1000;
        arm();
        handlers.onEvent(event, master);
      }
    }
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof StreamError) throw error;
    throw new StreamError(`the stream from ${master} broke: ${(error as Error).message}`);
  } finally {
    clearTimeout(watchdog);
    signal.removeEventListener('abort', abort);
    response.destroy();
  }
}
