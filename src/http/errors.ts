// Every error the HTTP API can answer, with a stable code and its status (fastify lib/errors.js
// style). Codes are never reused or renamed; test/http/errors.test.ts checks this list against
// docs/errors.md both ways.
export const httpErrors = {
  NOT_LEADER: { status: 307, message: 'not the leader: repeat the request at Location' },
  BAD_REQUEST: { status: 400, message: 'the request is malformed' },
  SANDBOX_FILE_REFUSED: {
    status: 400,
    message: "the agent refused the read: not a regular file, or outside the task's sandbox",
  },
  INVALID_BODY: { status: 400, message: 'the request body does not match the schema' },
  UNKNOWN_CALL: { status: 400, message: 'unknown call type' },
  INVALID_KEY: { status: 400, message: 'invalid key or namespace' },
  INVALID_VERSION: { status: 400, message: 'If-Match must be a non-negative integer version' },
  INVALID_IDEMPOTENCY_KEY: { status: 400, message: 'an Idempotency-Key is 1–255 printable ASCII characters' },
  UNKNOWN_FRAMEWORK: { status: 400, message: 'Framework cannot be found' },
  STREAM_ID_REQUIRED: { status: 400, message: "All non-subscribe calls should include the 'Mesos-Stream-Id' header" },
  STREAM_ID_MISMATCH: { status: 400, message: 'the Mesos-Stream-Id is not the stream the framework is subscribed on' },
  UNAUTHORIZED: { status: 401, message: 'missing or invalid credentials' },
  FORBIDDEN: { status: 403, message: 'not allowed' },
  PRINCIPAL_MISMATCH: {
    status: 403,
    message: 'the framework names another principal than the one the request authenticated as',
  },
  FRAMEWORK_NOT_SUBSCRIBED: { status: 403, message: 'Framework is not subscribed' },
  NOT_FOUND: { status: 404, message: 'not found' },
  SANDBOX_FILE_NOT_FOUND: { status: 404, message: "the task's sandbox has no such file (yet)" },
  KEY_NOT_FOUND: { status: 404, message: 'no such key' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'method not allowed' },
  NOT_ACCEPTABLE: { status: 406, message: 'cannot produce the requested media type' },
  CONFLICT: { status: 409, message: 'the request conflicts with the current state' },
  GONE: { status: 410, message: 'the entity is gone for good' },
  VERSION_MISMATCH: { status: 412, message: 'the version does not match' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the request body must be application/json' },
  REJECTED: { status: 422, message: 'the command was rejected by the state machine' },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    message: 'this Idempotency-Key was used for another request; use a fresh key for a new request',
  },
  TOO_MANY_REQUESTS: { status: 429, message: 'too many requests in flight' },
  INTERNAL: { status: 500, message: 'internal error' },
  AGENT_UNAVAILABLE: { status: 502, message: "the task's agent did not answer, or answered what a read cannot be" },
  NO_LEADER: { status: 503, message: 'no leader is known; retry shortly' },
  UNAVAILABLE: { status: 503, message: 'the cluster cannot serve this request now; retry shortly' },
  TIMEOUT: { status: 504, message: 'the request timed out; its outcome is unknown' },
  RATE_LIMIT_EXCEEDED: {
    status: 429,
    message: "the principal's scheduler calls are over its --rate-limits rate, and its queue is full",
  },
  INVALID_URI: {
    status: 400,
    message:
      'a CommandInfo URI the agent cannot fetch: http, https, file or an absolute path; output_file inside the sandbox',
  },
} as const satisfies Record<string, { status: number; message: string }>;

export type HttpErrorCode = keyof typeof httpErrors;

export class HttpError extends Error {
  readonly status: number;
  /** The code in the body: the kind's own, or a more precise one (a state machine rejection code). */
  readonly code: string;
  constructor(
    readonly kind: HttpErrorCode,
    message?: string,
    readonly headers: Record<string, string> = {},
    code?: string,
  ) {
    super(message ?? httpErrors[kind].message);
    this.name = 'HttpError';
    this.status = httpErrors[kind].status;
    this.code = code ?? kind;
  }

  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}
