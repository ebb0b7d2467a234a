// The request log: one line per HTTP answer worth reading, not per answer. fastify's own request
// logging writes two lines for every request ("incoming request", "request completed"); at
// thousands of KV writes a second those lines were the leader's largest single cost outside
// the fsync (pino's serialization, redaction and write: about 12% of its busy time at 256
// clients, issue 19), while telling nothing the rest does not: every mutating call already has
// its audit line (audit.ts), every answer is counted by route, status and latency
// (request-metrics.ts), and a 5xx is logged with its error by the error handler (server.ts).
// So an answer is logged when it is an error (4xx, 5xx, or a failure fastify saw) or took long;
// fastify's other lines (stream errors, a failed writeHead) are unchanged.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LogController } from 'fastify';
import { slowRequestLogMs } from './limits.ts';

/** The first status that is an error answer. */
const firstErrorStatus = 400;

export class ErrorsAndSlowRequestsLog extends LogController {
  /** Nothing: the line, when there is one, is written when the answer is known. */
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const failed = error !== null && error !== undefined;
    if (!failed && reply.statusCode < firstErrorStatus && reply.elapsedTime < slowRequestLogMs) return;
    super.requestCompleted(error, request, reply);
  }
}
