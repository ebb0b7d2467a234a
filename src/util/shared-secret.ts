// The cluster secret: masters present it to each other (Raft peers) and agents to masters, in
// one header at the WebSocket handshake, checked before any socket is made. There is no TLS
// yet, so on an untrusted network the secret can be read off the wire: it keeps strangers and
// misconfigured nodes out, it is not a defence against an eavesdropper.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const secretHeader = 'x-flotilla-secret';
/** Used when no --cluster-secret-file is given: fine on loopback, said loudly in the log. */
export const developmentSecret = 'flotilla-development-secret';
export const minSecretLength = 16;

export class SecretFileError extends Error {
  override name = 'SecretFileError';
}

/** The secret in `file` (surrounding whitespace dropped), or SecretFileError in plain English. */
export function readSecretFile(file: string): string {
  let secret: string;
  try {
    secret = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new SecretFileError(`${file}: cannot read the cluster secret (${(error as Error).message})`);
  }
  if (secret.length < minSecretLength)
    throw new SecretFileError(`${file}: the cluster secret must be at least ${minSecretLength} characters`);
  return secret;
}

const digest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

export class SecretCheck {
  readonly #digest: Buffer;

  constructor(secret: string) {
    if (secret === '') throw new Error('the cluster secret must not be empty');
    this.#digest = digest(secret);
  }

  /** Compares digests, of equal length whatever was sent, so timing leaks nothing of the secret. */
  matches(provided: string | string[] | undefined): boolean {
    return typeof provided === 'string' && timingSafeEqual(digest(provided), this.#digest);
  }
}
