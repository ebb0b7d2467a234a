// The options every daemon with an HTTP API takes for authentication and authorization (masters
// and agents spread them into their option tables), and what they mean together with --listen
// and --cluster-secret-file: the files read and checked, and the exposure rule (exposure.ts).
import { optionalTextOption, switchOption } from '../util/option-kinds.ts';
import { OptionError } from '../util/options.ts';
import { type Acls, readAclsFile } from './acls.ts';
import { AuthFileError } from './auth-file.ts';
import { type Credential, readCredentialsFile } from './credentials.ts';
import { type Exposure, exposureRefusal } from './exposure.ts';

export const authOptions = {
  credentials: optionalTextOption({
    flag: 'credentials',
    placeholder: '<file>',
    description:
      'principals and secrets, Mesos JSON {"credentials":[{"principal","secret"}]}: every HTTP request must ' +
      'then authenticate (Basic principal:secret, or Bearer <secret>)',
  }),
  acls: optionalTextOption({
    flag: 'acls',
    placeholder: '<file>',
    description: 'which principals may do what (Mesos local-authorizer JSON; see docs/security.md); default: all',
  }),
  insecureAllowAnonymous: switchOption({
    flag: 'insecure-allow-anonymous',
    description: 'start on a non-loopback --listen without --credentials or --cluster-secret-file (warns every minute)',
  }),
};

export interface AuthOptionValues {
  readonly credentials: string | null;
  readonly acls: string | null;
  readonly insecureAllowAnonymous: boolean;
  readonly clusterSecretFile: string | null;
}

export interface AuthSettings {
  /** null: no --credentials, requests are anonymous. */
  readonly credentials: readonly Credential[] | null;
  /** null: no --acls, every authenticated request is allowed everything. */
  readonly acls: Acls | null;
  readonly exposure: Exposure;
}

function readFileOption<Value>(flag: string, read: () => Value): Value {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof AuthFileError)) throw error;
    throw new OptionError(flag, `--${flag} ${error.message}`);
  }
}

/** Reads the files and applies the exposure rule; throws OptionError naming the flags. */
export function resolveAuthSettings(values: AuthOptionValues, listenHost: string): AuthSettings {
  const credentials =
    values.credentials === null ? null : readFileOption('credentials', () => readCredentialsFile(values.credentials!));
  const acls = values.acls === null ? null : readFileOption('acls', () => readAclsFile(values.acls!));
  const exposure: Exposure = {
    host: listenHost,
    hasCredentials: credentials !== null,
    hasClusterSecret: values.clusterSecretFile !== null,
    insecureAllowAnonymous: values.insecureAllowAnonymous,
  };
  const refusal = exposureRefusal(exposure);
  if (refusal !== null) throw new OptionError('credentials', refusal);
  return { credentials, acls, exposure };
}
