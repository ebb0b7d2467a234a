// Executor authentication (Mesos' authentication.md, "Executor authentication"): the agent gives
// each framework executor it launches a secret of its own in MESOS_EXECUTOR_AUTHENTICATION_TOKEN,
// and on an agent with --credentials every call of the executor API must carry it as
// `Authorization: Bearer <token>`. A token names one executor: the call is checked against the
// token of the executor the call names, so a token is worth nothing for any other executor.
// Tokens are never logged and never compared as text: sha256 digests are, in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits: as strong as the digest it is compared through. */
export const executorTokenBytes = 32;

export function newExecutorToken(): string {
  return randomBytes(executorTokenBytes).toString('base64url');
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Whether `presented` is `expected`; a null `expected` (no such executor, or no token) matches nothing. */
export function executorTokenMatches(presented: string, expected: string | null): boolean {
  // The digest of something is still compared when there is no token, so the answer takes as long.
  const matches = timingSafeEqual(digest(presented), digest(expected ?? ''));
  return matches && expected !== null;
}
