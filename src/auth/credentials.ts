// The credentials file (`--credentials FILE`), in Mesos' JSON format (authentication.md):
//   {"credentials": [{"principal": "ops", "secret": "…"}, …]}
// Principals are visible ASCII without a colon (a Basic user-id has none), at most
// maxPrincipalChars; secrets are visible ASCII, minSecretChars to maxSecretChars. No principal
// twice, and no secret twice: a Bearer token is a secret alone, and must name one principal.
import { AuthFileError, jsonObject, onlyKnownMembers, readJsonFile } from './auth-file.ts';
import { maxCredentials, maxPrincipalChars, maxSecretChars, minSecretChars } from './limits.ts';

export interface Credential {
  readonly principal: string;
  readonly secret: string;
}

const principalPattern = /^[\x21-\x39\x3b-\x7e]+$/;
const secretPattern = /^[\x21-\x7e]+$/;

export function isValidPrincipal(value: string): boolean {
  return value.length >= 1 && value.length <= maxPrincipalChars && principalPattern.test(value);
}

function credentialAt(value: unknown, path: string): Credential {
  const entry = jsonObject(value, path);
  onlyKnownMembers(entry, ['principal', 'secret'], path);
  const { principal, secret } = entry;
  if (typeof principal !== 'string' || !isValidPrincipal(principal)) {
    throw new AuthFileError(
      `${path}.principal must be 1–${maxPrincipalChars} visible ASCII characters without a colon`,
    );
  }
  // The message names the principal, never anything of the secret.
  if (
    typeof secret !== 'string' ||
    secret.length < minSecretChars ||
    secret.length > maxSecretChars ||
    !secretPattern.test(secret)
  ) {
    throw new AuthFileError(
      `${path}.secret (of ${principal}) must be ${minSecretChars}–${maxSecretChars} visible ASCII characters`,
    );
  }
  return { principal, secret };
}

/** The credentials of a parsed file; `source` names it in errors. */
export function parseCredentials(json: unknown, source: string): readonly Credential[] {
  const file = jsonObject(json, source);
  onlyKnownMembers(file, ['credentials'], source);
  const list = file.credentials;
  if (!Array.isArray(list) || list.length === 0 || list.length > maxCredentials)
    throw new AuthFileError(`${source}: "credentials" must be a list of 1–${maxCredentials} principals`);
  const credentials = list.map((value, position) => credentialAt(value, `${source}: credentials[${position}]`));
  const principals = new Set<string>();
  const secrets = new Set<string>();
  for (const { principal, secret } of credentials) {
    if (principals.has(principal)) throw new AuthFileError(`${source}: principal ${principal} is listed twice`);
    if (secrets.has(secret))
      throw new AuthFileError(`${source}: ${principal}'s secret is another principal's too; a token must name one`);
    principals.add(principal);
    secrets.add(secret);
  }
  return credentials;
}

export function readCredentialsFile(file: string): readonly Credential[] {
  return parseCredentials(readJsonFile(file, 'credentials'), file);
}
