// Refusing a WebSocket upgrade with a plain HTTP status (401 wrong secret, 403, 409…), so the
// dialer sees why at the handshake instead of a socket that just closes.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** A refused upgrade gets this long to flush its status line before its socket is destroyed. */
const refusalFlushTimeoutMs = 1_000;

/** `error`: sent as the usual `{"error": {code, message}}` body (none: an empty body). */
export function refuseUpgrade(
  socket: Duplex,
  status: number,
  error: { readonly code: string; readonly message: string } | null = null,
  /** More header lines (a redirect's Location), names and values already valid for HTTP. */
  headers: Readonly<Record<string, string>> = {},
): void {
  // The HTTP server dropped its own listeners when it handed the socket over for the upgrade.
  socket.on('error', () => undefined);
  const flushTimer = setTimeout(() => socket.destroy(), refusalFlushTimeoutMs);
  socket.once('close', () => clearTimeout(flushTimer));
  socket.once('finish', () => socket.destroy());
  const statusText = STATUS_CODES[status] ?? 'Refused';
  const body = error === null ? '' : JSON.stringify({ error });
  const type = error === null ? '' : 'Content-Type: application/json\r\nRetry-After: 1\r\n';
  let extra = '';
  for (const [name, value] of Object.entries(headers)) extra += `${name}: ${value}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\n${type}${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
