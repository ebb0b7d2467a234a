// TLS for every listener and client of a master or an agent (docs/security.md, "TLS"). One
// TlsIdentity per process holds the certificate, key and CA read from --tls-cert, --tls-key and
// --tls-ca; servers take serverOptions() and clients clientOptions() each time they connect, so
// a reload (SIGHUP) reaches new connections of both without a restart. Like Mesos'
// LIBPROCESS_SSL_* and Nomad's `tls` stanza, one CA signs every member: a peer is trusted when
// its certificate chains to it, and, with --tls-require-client-cert, when it names the peer.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { createSecureContext } from 'node:tls';
import { assert } from './assert.ts';

/** The three files; all or none are given (tls-options.ts refuses a half-set trio). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
  /** SHA-256 of the leaf certificate, as openssl prints it: what a reload is seen by. */
  readonly fingerprint: string;
}

/** A file is missing, unreadable, not PEM, or the key does not match the certificate. */
export class TlsFilesError extends Error {
  override name = 'TlsFilesError';
}

/** Bounded so a wrong path (a device, a huge file) cannot fill the heap: PEM chains are a few KiB. */
export const maxTlsFileBytes = 1024 * 1024;

function readPem(file: string, what: string): Buffer {
  let contents: Buffer;
  try {
    contents = readFileSync(file);
  } catch (error) {
    throw new TlsFilesError(`${file}: cannot read the ${what} (${(error as Error).message})`);
  }
  if (contents.length > maxTlsFileBytes)
    throw new TlsFilesError(`${file}: the ${what} is larger than ${maxTlsFileBytes} bytes`);
  if (!contents.includes('-----BEGIN ')) throw new TlsFilesError(`${file}: the ${what} is not PEM`);
  return contents;
}

/** Reads and checks the three files together: OpenSSL parses them and matches the key to the certificate. */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  const cert = readPem(files.certFile, 'certificate');
  const key = readPem(files.keyFile, 'private key');
  const ca = readPem(files.caFile, 'CA certificate');
  let fingerprint: string;
  try {
    createSecureContext({ cert, key, ca });
    fingerprint = new X509Certificate(cert).fingerprint256;
  } catch (error) {
    throw new TlsFilesError(
      `${files.certFile}, ${files.keyFile}, ${files.caFile}: not a usable certificate, key and CA ` +
        `(${(error as Error).message})`,
    );
  }
  return { cert, key, ca, fingerprint };
}

export interface TlsReloadOutcome {
  readonly ok: boolean;
  readonly fingerprint: string;
  /** Why the new files were refused (the old material stays in use); null when ok. */
  readonly error: string | null;
}

export class TlsIdentity {
  #material: TlsMaterial;
  readonly #listeners: ((material: TlsMaterial) => void)[] = [];

  constructor(
    readonly files: TlsFiles,
    /** --tls-require-client-cert: agents and peers must present a certificate naming them. */
    readonly requireClientCert: boolean,
    material: TlsMaterial = readTlsMaterial(files),
  ) {
    this.#material = material;
  }

  get material(): TlsMaterial {
    return this.#material;
  }

  /**
   * For https.createServer / fastify's `https`. The certificate is always requested when mutual
   * TLS is on but never required by the handshake itself: the one port also serves browsers and
   * CLIs, which authenticate with credentials; the peer and agent sockets check it themselves.
   */
  serverOptions(): { cert: Buffer; key: Buffer; ca: Buffer; requestCert: boolean; rejectUnauthorized: boolean } {
    const { cert, key, ca } = this.#material;
    return { cert, key, ca, requestCert: this.requireClientCert, rejectUnauthorized: false };
  }

  /** For a client connection: trust the CA, and present this process's certificate (used by mutual TLS). */
  clientOptions(): { ca: Buffer; cert: Buffer; key: Buffer } {
    const { cert, key, ca } = this.#material;
    return { ca, cert, key };
  }

  /** Called with the new material after each successful reload (servers call setSecureContext). */
  onReload(listener: (material: TlsMaterial) => void): void {
    this.#listeners.push(listener);
  }

  /** Rereads the files; bad files change nothing (the old certificate keeps serving). */
  reload(): TlsReloadOutcome {
    let material: TlsMaterial;
    try {
      material = readTlsMaterial(this.files);
    } catch (error) {
      if (!(error instanceof TlsFilesError)) throw error;
      return { ok: false, fingerprint: this.#material.fingerprint, error: error.message };
    }
    this.#material = material;
    for (const listener of this.#listeners) listener(material);
    assert(this.#material === material, 'a reload listener must not reload again');
    return { ok: true, fingerprint: material.fingerprint, error: null };
  }
}

/** The names a certificate gives its subject: the CN, and every DNS and IP subject alternative name. */
export function certificateNames(certificate: PeerCertificate): string[] {
  const names: string[] = [];
  const commonName = certificate.subject?.CN;
  if (typeof commonName === 'string') names.push(commonName);
  else if (Array.isArray(commonName)) names.push(...(commonName as string[]));
  for (const entry of (certificate.subjectaltname ?? '').split(',')) {
    const match = /^\s*(DNS|IP Address):(.+)$/.exec(entry);
    if (match !== null) names.push(match[2]!.trim());
  }
  // The CN is usually repeated as a DNS name; once is enough in messages.
  return [...new Set(names)];
}

export type ClientCertificateVerdict =
  | { readonly trusted: true; readonly names: readonly string[] }
  | { readonly trusted: false; readonly reason: string };

/**
 * Whether the client at the other end of `socket` presented a certificate that chains to our CA
 * and names `expected` (mutual TLS for peers and agents). A socket that is not TLS is refused.
 */
export function verifyClientCertificate(socket: unknown, expected: string): ClientCertificateVerdict {
  const tlsSocket = socket as Partial<TLSSocket>;
  if (typeof tlsSocket.getPeerCertificate !== 'function') return { trusted: false, reason: 'not a TLS connection' };
  const certificate = tlsSocket.getPeerCertificate();
  if (certificate === null || Object.keys(certificate).length === 0)
    return { trusted: false, reason: 'no client certificate' };
  if (tlsSocket.authorized !== true)
    return { trusted: false, reason: `client certificate not trusted (${String(tlsSocket.authorizationError)})` };
  const names = certificateNames(certificate);
  if (!names.includes(expected))
    return { trusted: false, reason: `client certificate names ${names.join(', ') || 'nothing'}, not ${expected}` };
  return { trusted: true, names };
}
