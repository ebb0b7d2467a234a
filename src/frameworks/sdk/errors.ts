// What a scheduler call can fail with, typed so callers switch on `code`, never on message
// text. A call the master refused carries its status and the server's {"error":{code,message}}
// (Flotilla) or its plain-text body (Apache Mesos answers 400 with text).

export const sdkErrorCodes = {
  /** The master answered 4xx/5xx; `status` and `serverCode` say which. */
  CALL_REJECTED: 'the master refused the call',
  /** No subscription: subscribe first, or the client is reconnecting and did not recover in time. */
  NOT_SUBSCRIBED: 'the scheduler is not subscribed',
  /** The connection failed (refused, reset, timed out) before an answer arrived. */
  NETWORK: 'the master could not be reached',
  TOO_MANY_REDIRECTS: 'the masters redirected too many times',
  /** The master answered something that is not the Mesos v1 scheduler API. */
  BAD_RESPONSE: 'the master answered something unreadable',
  /** close() was called. */
  CLOSED: 'the scheduler client is closed',
  /**
   * An ACCEPT whose offers came from another master than the one that now holds the stream: a
   * leader changed before it could be sent, and its offers went with that leader. It was not
   * sent, and launched nothing.
   */
  OFFERS_RESCINDED: "the call's offers went with the master that made them",
} as const;

export type SdkErrorCode = keyof typeof sdkErrorCodes;

export class SchedulerError extends Error {
  override name = 'SchedulerError';
  constructor(
    readonly code: SdkErrorCode,
    message: string,
    /** The HTTP status of a CALL_REJECTED, else null. */
    readonly status: number | null = null,
    /** The server's error code (`INVALID_BODY`, …) of a CALL_REJECTED, else null. */
    readonly serverCode: string | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The error for a non-2xx answer, reading Flotilla's JSON error or Mesos' plain text. */
export function rejectionError(status: number, body: string, call: string): SchedulerError {
  let serverCode: string | null = null;
  let serverMessage = body.trim().slice(0, 1_000);
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') serverCode = parsed.error.code;
    if (typeof parsed.error?.message === 'string') serverMessage = parsed.error.message;
  } catch {
    // Not JSON: Apache Mesos answers errors in plain text, kept as the message.
  }
  const codePart = serverCode === null ? '' : ` ${serverCode}`;
  return new SchedulerError(
    'CALL_REJECTED',
    `${call}: ${status}${codePart}: ${serverMessage || 'no message'}`,
    status,
    serverCode,
  );
}
