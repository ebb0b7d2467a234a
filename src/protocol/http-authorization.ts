// The Authorization request header as every Flotilla API takes it (masters, agents): HTTP Basic
// (RFC 7617, what Mesos' basic HTTP authenticator reads: `Basic base64(principal:secret)`) or a
// Bearer token (RFC 6750). A Flotilla token is a principal's secret itself: the masters find the
// principal whose secret it is, so secrets are unique across a credentials file. Shared by the
// servers (src/auth) and the clients (SDK, CLI, jobs framework), so both sides spell it alike.
import { maxAuthorizationHeaderChars } from './limits.ts';

export const authorizationHeader = 'authorization';

export type PresentedCredentials =
  | { readonly scheme: 'basic'; readonly principal: string; readonly secret: string }
  | { readonly scheme: 'bearer'; readonly token: string };

/** Why an Authorization header could not be read; the text never quotes the header's value. */
export interface MalformedAuthorization {
  readonly malformed: string;
}

const base64Pattern = /^[A-Za-z0-9+/]+={0,2}$/;
/** Visible ASCII: what a token or a secret is made of (src/auth/credentials.ts checks secrets alike). */
const visibleAscii = /^[\x21-\x7e]+$/;

export function basicAuthorization(principal: string, secret: string): string {
  if (principal === '' || principal.includes(':')) throw new Error('a principal is not empty and has no colon');
  return `Basic ${Buffer.from(`${principal}:${secret}`, 'utf8').toString('base64')}`;
}

export function bearerAuthorization(token: string): string {
  if (!visibleAscii.test(token)) throw new Error('a token is visible ASCII characters');
  return `Bearer ${token}`;
}

/** The credentials a header value presents, or why it presents none that can be checked. */
export function parseAuthorization(value: string): PresentedCredentials | MalformedAuthorization {
  if (value.length > maxAuthorizationHeaderChars)
    return { malformed: `the Authorization header is longer than ${maxAuthorizationHeaderChars} characters` };
  const separator = value.indexOf(' ');
  const scheme = (separator === -1 ? value : value.slice(0, separator)).toLowerCase();
  const rest = separator === -1 ? '' : value.slice(separator + 1).trim();
  if (scheme === 'basic') return parseBasic(rest);
  if (scheme === 'bearer') {
    return visibleAscii.test(rest) ? { scheme: 'bearer', token: rest } : { malformed: 'a Bearer token is missing' };
  }
  return { malformed: 'the Authorization scheme must be Basic or Bearer' };
}

function parseBasic(encoded: string): PresentedCredentials | MalformedAuthorization {
  if (encoded.length % 4 !== 0 || !base64Pattern.test(encoded))
    return { malformed: 'Basic credentials must be base64 of principal:secret' };
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return { malformed: 'Basic credentials must be base64 of principal:secret' };
  return { scheme: 'basic', principal: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

export function isMalformed(
  presented: PresentedCredentials | MalformedAuthorization,
): presented is MalformedAuthorization {
  return 'malformed' in presented;
}
