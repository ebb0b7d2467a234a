// Opening the SUBSCRIBE stream on the leader: POST to a master, follow 307s to the leader
// (bounded), and hand back the streaming response with its Mesos-Stream-Id. Errors say which
// master answered what; `fatal` marks answers that retrying cannot fix (a bad FrameworkInfo,
// a framework that was torn down), so the client stops instead of hammering the masters.
import { maxErrorBodyBytes, maxRedirects } from './limits.ts';
import type http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { rejectionError, SchedulerError } from './errors.ts';
import { type MasterAddress, parseRedirectLocation } from './masters.ts';
import { streamIdHeader } from '../../protocol/scheduler.ts';
import { postForResponse, readBody, subscribeHeadersTimeoutMs } from './transport.ts';

const errorBodyTimeoutMs = 5_000;

export interface OpenedStream {
  readonly master: MasterAddress;
  readonly streamId: string;
  readonly response: IncomingMessage;
}

/** Statuses after which a re-subscription would fail the same way: stop and report. */
export function isFatalSubscribeStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** `headers`: the framework's Authorization (transport.ts credentialHeaders), or none. */
export async function openSubscription(
  first: MasterAddress,
  call: object,
  agent: http.Agent,
  headers: Readonly<Record<string, string>> = {},
): Promise<OpenedStream> {
  let master = first;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    const response = await postForResponse(master, call, { agent, headers, timeoutMs: subscribeHeadersTimeoutMs });
    const status = response.statusCode ?? 0;
    if (status === 200) {
      const streamId = response.headers[streamIdHeader];
      if (typeof streamId !== 'string' || streamId === '') {
        response.destroy();
        throw new SchedulerError('BAD_RESPONSE', `${master}: SUBSCRIBE answered 200 without a Mesos-Stream-Id header`);
      }
      return { master, streamId, response };
    }
    const body = await readBody(master, response, maxErrorBodyBytes, errorBodyTimeoutMs).catch(() => '');
    if (status === 307) {
      const leader = parseRedirectLocation(response.headers.location);
      if (leader === null)
        throw new SchedulerError(
          'BAD_RESPONSE',
          `${master}: 307 with an unusable Location "${response.headers.location ?? ''}"`,
        );
      master = leader;
      continue;
    }
    throw rejectionError(status, body, `SUBSCRIBE at ${master}`);
  }
  throw new SchedulerError('TOO_MANY_REDIRECTS', `SUBSCRIBE: more than ${maxRedirects} redirects, last to ${master}`);
}
