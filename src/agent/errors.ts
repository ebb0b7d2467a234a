// Every error the agent's HTTP API answers (http.ts, http-files.ts), with a stable code and its
// status, as the masters' registries do (fastify lib/errors.js style). Codes are never reused or
// renamed; docs/errors.md lists them and test/http/errors.test.ts checks both ways.
import type { SandboxFileErrorCode } from './sandbox-files.ts';

export const agentApiErrors = {
  BAD_REQUEST: { status: 400, message: 'the request is malformed' },
  INVALID_BODY: { status: 400, message: 'the request body does not match the call' },
  UNKNOWN_CALL: { status: 400, message: 'unknown call type' },
  SANDBOX_PATH_INVALID: { status: 400, message: 'the path is not a relative path inside the sandbox' },
  SANDBOX_PATH_ESCAPES: { status: 400, message: 'the path leads out of the sandbox (through a symlink)' },
  SANDBOX_NOT_A_FILE: { status: 400, message: 'the path is not a regular file' },
  SANDBOX_RANGE_INVALID: { status: 400, message: 'offset or length is out of range' },
  UNAUTHORIZED: { status: 401, message: 'missing or invalid credentials' },
  FORBIDDEN: { status: 403, message: 'not allowed' },
  NOT_FOUND: { status: 404, message: 'no such route' },
  SANDBOX_FILE_NOT_FOUND: { status: 404, message: 'no such file or sandbox' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the request body must be application/json' },
  INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }> &
  Record<SandboxFileErrorCode, { status: number; message: string }>;

export type AgentApiErrorCode = keyof typeof agentApiErrors;

export class AgentHttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: AgentApiErrorCode,
    message?: string,
  ) {
    super(message ?? agentApiErrors[code].message);
    this.status = agentApiErrors[code].status;
  }
}

export function errorBody(code: AgentApiErrorCode, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
