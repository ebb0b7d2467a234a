// Which master answers a hosted framework's API (Marathon's /v2/*, Metronome's /v1/jobs*). Every
// master serves both on its port; only the leader runs the frameworks (src/master/hosted-frameworks.ts).
// So, before fastify reads the body (an onRequest hook in the framework's own scope):
//   - the framework is off on this master: 404, saying how to run it as its own process;
//   - this master leads: the request goes on to the framework's routes (which answer 503 until
//     the framework's state is loaded);
//   - another master leads: the request is forwarded to it as it came, its answer relayed back,
//     event streams included (src/frameworks/hosting/forward.ts) — Marathon's non-leaders proxy
//     the same way, so a client may use any master's address;
//   - no leader is known, or the request was forwarded here already by a master that thought
//     this one led (leadership is moving): 503 with Retry-After.
// Errors keep the framework's own shape (`answers`), as its clients expect.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forwardedByHeader, forwardRequest } from '../frameworks/hosting/forward.ts';
import { parseMasterAddress } from '../frameworks/sdk/masters.ts';
import type { MasterCore } from '../master/interface.ts';
import type { TlsIdentity } from '../util/tls.ts';
import { frameworkForwardAnswerTimeoutMs, frameworkForwardHeadersTimeoutMs, retryAfterSeconds } from './limits.ts';

export interface FrameworkAnswer {
  readonly status: number;
  readonly body: unknown;
}

export interface FrameworkGate {
  /** Whether this master hosts the framework (its --services / --jobs flag). */
  readonly hosted: boolean;
  /** Paths this master answers itself whoever leads (Marathon's /ping). */
  readonly localPaths: ReadonlySet<string>;
  /** The framework's own error shapes: 404 when off, 503 when no master can serve it now. */
  readonly notHosted: () => FrameworkAnswer;
  readonly unavailable: (problem: string) => FrameworkAnswer;
  /** Masters with --tls-*: the leader is reached over HTTPS with this CA and certificate. */
  readonly tls?: TlsIdentity | null;
}

export function frameworkGate(master: MasterCore, gate: FrameworkGate) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const path = request.url.split('?')[0]!;
    if (gate.localPaths.has(path)) return undefined;
    if (!gate.hosted) return send(reply, gate.notHosted());
    const raft = master.raft();
    if (raft.role === 'leader') return undefined;
    if (request.headers[forwardedByHeader] !== undefined)
      return unavailable(reply, gate, `${raft.id} does not lead (any more); leadership is moving`);
    if (raft.leaderAddress === null) return unavailable(reply, gate, `no leader is known to ${raft.id}`);
    await forwardRequest(request, reply, {
      target: parseMasterAddress(raft.leaderAddress),
      forwarder: `flotilla-master-${raft.id}`,
      headersTimeoutMs: frameworkForwardHeadersTimeoutMs,
      answerTimeoutMs: frameworkForwardAnswerTimeoutMs,
      unreachable: (problem) => gate.unavailable(`the leader does not answer (${problem})`),
      tls: gate.tls?.clientOptions() ?? null,
    });
    return reply;
  };
}

function send(reply: FastifyReply, answer: FrameworkAnswer): FastifyReply {
  return reply.code(answer.status).send(answer.body);
}

function unavailable(reply: FastifyReply, gate: FrameworkGate, problem: string): FastifyReply {
  return send(reply.header('retry-after', retryAfterSeconds), gate.unavailable(problem));
}
