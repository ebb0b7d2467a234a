// A JSON-over-HTTP/1.1 client on one keep-alive socket: the same code drives Flotilla's KV API
// and etcd's v3 JSON gateway, so neither pays for a client the other does not.
import http from 'node:http';
import { RawJsonClient } from './raw-http-client.ts';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly location: string | undefined;
}

/** What the load generator needs of an HTTP client. */
export interface JsonClient {
  request(method: string, path: string, body: unknown, timeoutMs?: number): Promise<HttpAnswer>;
  close(): void;
}

/** FLOTILLA_PEERS_HTTP_CLIENT: node (Node's http, the default) or raw (raw-http-client.ts). */
export function httpClientKind(): 'node' | 'raw' {
  const choice = process.env.FLOTILLA_PEERS_HTTP_CLIENT ?? 'node';
  if (choice !== 'node' && choice !== 'raw') {
    throw new Error(`FLOTILLA_PEERS_HTTP_CLIENT must be node or raw, got ${choice}`);
  }
  return choice;
}

/** The load generator's client for the HTTP systems (Flotilla and etcd alike), as httpClientKind() says. */
export function openJsonClient(address: string): JsonClient {
  if (httpClientKind() === 'node') return KeepAliveJsonClient.forAddress(address);
  const [host, port] = address.split(':');
  return new RawJsonClient(host!, Number(port));
}

export class KeepAliveJsonClient implements JsonClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  static forAddress(address: string): KeepAliveJsonClient {
    const [host, port] = address.split(':');
    return new KeepAliveJsonClient(host!, Number(port));
  }

  request(method: string, path: string, body: unknown, timeoutMs = 10_000): Promise<HttpAnswer> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          timeout: timeoutMs,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: text, location: response.headers.location }),
          );
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      request.on('error', reject);
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
