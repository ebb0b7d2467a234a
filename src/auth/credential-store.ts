// Checks presented credentials against the credentials file, in time that does not depend on
// the secrets (authentication.md: an attacker timing answers must learn nothing of a secret):
// - a secret is never compared as text: its sha256 digest is, with crypto.timingSafeEqual, so
//   every comparison handles two 32-byte buffers whatever was sent;
// - Basic of an unknown principal still makes one comparison, against a decoy digest, so
//   "no such principal" and "wrong secret" take the same path;
// - a Bearer token is compared with every principal's digest, without stopping at a match.
// What remains observable is the number of principals, which is not a secret.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PresentedCredentials } from '../protocol/http-authorization.ts';
import { assert, assertNever } from '../util/assert.ts';
import type { Credential } from './credentials.ts';

/** Compares two digests of equal length in constant time; crypto.timingSafeEqual unless a test counts calls. */
export type DigestComparator = (left: Buffer, right: Buffer) => boolean;

export const digestBytes = 32;

export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export class CredentialStore {
  readonly #digests = new Map<string, Buffer>();
  /** The digest of no secret anyone holds: what Basic of an unknown principal is compared with. */
  readonly #decoy = secretDigest(randomBytes(32).toString('base64'));

  constructor(
    credentials: readonly Credential[],
    private readonly compare: DigestComparator = timingSafeEqual,
  ) {
    assert(credentials.length > 0, 'a credential store needs at least one principal');
    for (const { principal, secret } of credentials) {
      assert(!this.#digests.has(principal), `principal ${principal} twice in a credential store`);
      this.#digests.set(principal, secretDigest(secret));
    }
  }

  get size(): number {
    return this.#digests.size;
  }

  /** The principal the credentials prove, or null (the same null for every kind of failure). */
  authenticate(presented: PresentedCredentials): string | null {
    switch (presented.scheme) {
      case 'basic':
        return this.#basic(presented.principal, presented.secret);
      case 'bearer':
        return this.#bearer(presented.token);
      default:
        return assertNever(presented);
    }
  }

  #basic(principal: string, secret: string): string | null {
    const expected = this.#digests.get(principal);
    const matches = this.#equal(secretDigest(secret), expected ?? this.#decoy);
    return matches && expected !== undefined ? principal : null;
  }

  #bearer(token: string): string | null {
    const presented = secretDigest(token);
    let found: string | null = null;
    for (const [principal, digest] of this.#digests) {
      // No early exit: the time taken does not say which principal's secret matched, if any.
      if (this.#equal(presented, digest) && found === null) found = principal;
    }
    return found;
  }

  #equal(left: Buffer, right: Buffer): boolean {
    assert(left.length === digestBytes && right.length === digestBytes, 'digests compared are 32 bytes');
    return this.compare(left, right);
  }
}
