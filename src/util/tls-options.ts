// The TLS options of masters and agents (both spread them into their option tables), and what
// they mean together: all three files or none — a half-set trio is refused at start with a
// plain message, since serving HTTPS with no CA to check peers by, or trusting a CA with no
// certificate to serve, is a configuration mistake, never a mode.
import { optionalTextOption, switchOption } from './option-kinds.ts';
import { OptionError } from './options.ts';
import { TlsFilesError, TlsIdentity } from './tls.ts';

export const tlsOptions = {
  tlsCert: optionalTextOption({
    flag: 'tls-cert',
    placeholder: '<file>',
    description:
      'PEM certificate (chain) served on every listener and presented to peers; needs --tls-key and --tls-ca',
  }),
  tlsKey: optionalTextOption({
    flag: 'tls-key',
    placeholder: '<file>',
    description: 'PEM private key of --tls-cert',
  }),
  tlsCa: optionalTextOption({
    flag: 'tls-ca',
    placeholder: '<file>',
    description: 'PEM CA certificate(s) that every master and agent certificate chains to (reloaded on SIGHUP)',
  }),
  tlsRequireClientCert: switchOption({
    flag: 'tls-require-client-cert',
    description:
      'mutual TLS: masters dialing this one (Raft peers) and agents must present a certificate of --tls-ca naming ' +
      'their master id or agent hostname',
  }),
};

export interface TlsOptionValues {
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly tlsCa: string | null;
  readonly tlsRequireClientCert: boolean;
}

/** null: plain HTTP and WebSocket. Reads and checks the files; throws OptionError naming the flags. */
export function resolveTlsIdentity(values: TlsOptionValues): TlsIdentity | null {
  const given = { 'tls-cert': values.tlsCert, 'tls-key': values.tlsKey, 'tls-ca': values.tlsCa };
  const missing = Object.entries(given).filter(([, file]) => file === null);
  if (missing.length === 3) {
    if (values.tlsRequireClientCert)
      throw new OptionError(
        'tls-require-client-cert',
        '--tls-require-client-cert needs --tls-cert, --tls-key and --tls-ca',
      );
    return null;
  }
  if (missing.length > 0) {
    const names = missing.map(([flag]) => `--${flag}`).join(' and ');
    throw new OptionError(
      missing[0]![0],
      `TLS needs --tls-cert, --tls-key and --tls-ca together; ${names} ${missing.length === 1 ? 'is' : 'are'} missing`,
    );
  }
  try {
    return new TlsIdentity(
      { certFile: values.tlsCert!, keyFile: values.tlsKey!, caFile: values.tlsCa! },
      values.tlsRequireClientCert,
    );
  } catch (error) {
    if (!(error instanceof TlsFilesError)) throw error;
    throw new OptionError('tls-cert', `--tls-cert/--tls-key/--tls-ca: ${error.message}`);
  }
}
