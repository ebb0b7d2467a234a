// Who sent a request, as the authentication hook found out (http-authentication.ts) and the
// authorizer judges it (authorizer.ts).
// - anonymous: the daemon takes no credentials (no --credentials: loopback, or
//   --insecure-allow-anonymous), so nobody proves anything. ACLs treat it as Mesos treats a
//   request without a principal: only rules whose principals are ANY apply to it.
// - principal: proved a secret of the credentials file.
// - cluster: a master presenting the cluster secret to an agent's API (a sandbox read the
//   master has already authorized for its own caller). Never a principal of the credentials file.
import { assertNever } from '../util/assert.ts';

export type Requester =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'principal'; readonly principal: string }
  | { readonly kind: 'cluster' };

export const anonymousRequester: Requester = Object.freeze({ kind: 'anonymous' });
export const clusterRequester: Requester = Object.freeze({ kind: 'cluster' });

export function principalRequester(principal: string): Requester {
  return { kind: 'principal', principal };
}

/** The principal's name, or null for anyone else. */
export function principalOf(requester: Requester): string | null {
  return requester.kind === 'principal' ? requester.principal : null;
}

/** For messages and audit lines: "principal ops", "anonymous", "the cluster". */
export function describeRequester(requester: Requester): string {
  switch (requester.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'principal':
      return `principal ${requester.principal}`;
    case 'cluster':
      return 'the cluster';
    default:
      return assertNever(requester);
  }
}
