// A certificate authority made for one test run with the openssl command (Node's crypto makes
// keys but cannot sign X.509 certificates; openssl is in Debian's base system and .ci/run
// installs it), so TLS tests use real certificates signed by a CA nobody else trusts.
// Certificates are P-256 ECDSA, valid two days, and name 127.0.0.1 (where tests listen) besides
// the names a test asks for.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './tmp.ts';

export interface IssuedCertificate {
  readonly certFile: string;
  readonly keyFile: string;
}

const keyOptions = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'];

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class ThrowawayCa {
  readonly caFile: string;
  readonly #caKeyFile: string;
  #issued = 0;

  private constructor(readonly directory: string) {
    this.caFile = path.join(directory, 'ca.pem');
    this.#caKeyFile = path.join(directory, 'ca.key');
  }

  /** A new CA in a temporary directory; `name` becomes its CN. */
  static create(name = 'flotilla-test-ca'): ThrowawayCa {
    const ca = new ThrowawayCa(makeTempDir('tls-ca-'));
    openssl(['req', '-x509', ...keyOptions, '-keyout', ca.#caKeyFile, '-out', ca.caFile, '-subj', `/CN=${name}`]);
    return ca;
  }

  get pem(): Buffer {
    return readFileSync(this.caFile);
  }

  /** A leaf certificate signed by this CA: CN `commonName`, SAN DNS for each name and IP 127.0.0.1. */
  issue(commonName: string, dnsNames: readonly string[] = [commonName]): IssuedCertificate {
    this.#issued += 1;
    const base = path.join(this.directory, `${commonName}-${this.#issued}`);
    const alternativeNames = [...dnsNames.map((name) => `DNS:${name}`), 'IP:127.0.0.1'].join(',');
    openssl([
      'req',
      '-x509',
      ...keyOptions,
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.pem`,
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      `subjectAltName=${alternativeNames}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'extendedKeyUsage=serverAuth,clientAuth',
      '-CA',
      this.caFile,
      '-CAkey',
      this.#caKeyFile,
    ]);
    return { certFile: `${base}.pem`, keyFile: `${base}.key` };
  }

  /** Copies an issued certificate to fixed paths (what a daemon's --tls-cert/--tls-key name). */
  static install(issued: IssuedCertificate, target: IssuedCertificate): void {
    copyFileSync(issued.keyFile, target.keyFile);
    copyFileSync(issued.certFile, target.certFile);
  }
}
