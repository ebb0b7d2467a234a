// Who the CLI says it is to masters (and agents) with --credentials (docs/security.md). In order:
//   --principal NAME --secret-file FILE     the secret is the file's content, trimmed
//   FLOTILLA_PRINCIPAL and FLOTILLA_SECRET  the same from the environment
//   FLOTILLA_TOKEN                          Bearer: a token is a principal's secret
// and nothing at all for an anonymous master (npm start on loopback). The secret is never put on
// the command line (it would show in `ps`) and never printed: errors name only the flag or the
// variable. A half-given pair (a principal without a secret) is a usage error, not anonymous.
import { readFileSync, statSync } from 'node:fs';
import { basicAuthorization, bearerAuthorization, authorizationHeader } from '../../protocol/http-authorization.ts';
import { maxSecretFileBytes } from '../limits.ts';
import { assertNever } from '../../util/assert.ts';
import { usageError } from './errors.ts';

export interface CredentialFlags {
  readonly principal?: string;
  readonly secretFile?: string;
}

/** What the CLI presents: a principal and its secret (Basic), a token (Bearer), or nothing. */
export type CliCredentials =
  | { readonly kind: 'basic'; readonly principal: string; readonly secret: string }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'anonymous' };

/** The headers every request carries: the Authorization, or none. */
export type CredentialHeaders = Readonly<Record<string, string>>;

export const anonymousCredentials: CliCredentials = Object.freeze({ kind: 'anonymous' });

const credentialHint =
  'give --principal with --secret-file, or FLOTILLA_PRINCIPAL with FLOTILLA_SECRET, or FLOTILLA_TOKEN';

function readSecretFile(file: string): string {
  let size: number;
  let secret: string;
  try {
    size = statSync(file).size;
    secret = size > maxSecretFileBytes ? '' : readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw usageError(`--secret-file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  if (size > maxSecretFileBytes) throw usageError(`--secret-file ${file}: longer than ${maxSecretFileBytes} bytes`);
  if (secret === '') throw usageError(`--secret-file ${file} is empty`);
  return secret;
}

function basic(principal: string, secret: string, source: string): CliCredentials {
  if (principal === '' || principal.includes(':'))
    throw usageError(`${source}: a principal is not empty and has no colon`, credentialHint);
  return { kind: 'basic', principal, secret };
}

function fromFlags(flags: CredentialFlags): CliCredentials | null {
  if (flags.principal === undefined && flags.secretFile === undefined) return null;
  if (flags.principal === undefined || flags.secretFile === undefined)
    throw usageError('--principal and --secret-file go together', credentialHint);
  return basic(flags.principal, readSecretFile(flags.secretFile), '--principal');
}

function fromEnvironment(environment: NodeJS.ProcessEnv): CliCredentials | null {
  const principal = environment.FLOTILLA_PRINCIPAL || undefined;
  const secret = environment.FLOTILLA_SECRET || undefined;
  if (principal !== undefined || secret !== undefined) {
    if (principal === undefined || secret === undefined)
      throw usageError('FLOTILLA_PRINCIPAL and FLOTILLA_SECRET go together', credentialHint);
    return basic(principal, secret, 'FLOTILLA_PRINCIPAL');
  }
  const token = environment.FLOTILLA_TOKEN || undefined;
  if (token === undefined) return null;
  if (!/^[\x21-\x7e]+$/.test(token)) throw usageError('FLOTILLA_TOKEN: a token is visible ASCII characters');
  return { kind: 'bearer', token };
}

/** The flags' credentials, else the environment's, else anonymous. */
export function resolveCredentials(flags: CredentialFlags, environment: NodeJS.ProcessEnv): CliCredentials {
  return fromFlags(flags) ?? fromEnvironment(environment) ?? anonymousCredentials;
}

/** The Authorization header of every request, or no header when anonymous. */
export function credentialHeaders(credentials: CliCredentials): CredentialHeaders {
  switch (credentials.kind) {
    case 'basic':
      return { [authorizationHeader]: basicAuthorization(credentials.principal, credentials.secret) };
    case 'bearer':
      return { [authorizationHeader]: bearerAuthorization(credentials.token) };
    case 'anonymous':
      return {};
    default:
      return assertNever(credentials);
  }
}

/**
 * For a command that registers a framework (`run`, `jobs`, `services`): a framework names its
 * principal in its FrameworkInfo, so it needs a principal and its secret; a token alone will not do.
 * Undefined when anonymous.
 */
export function frameworkCredentials(
  flags: CredentialFlags,
  environment: NodeJS.ProcessEnv,
): { readonly principal: string; readonly secret: string } | undefined {
  const credentials = resolveCredentials(flags, environment);
  switch (credentials.kind) {
    case 'anonymous':
      return undefined;
    case 'basic':
      return { principal: credentials.principal, secret: credentials.secret };
    case 'bearer':
      throw usageError('a framework names its principal: FLOTILLA_TOKEN will not do', credentialHint);
    default:
      return assertNever(credentials);
  }
}
