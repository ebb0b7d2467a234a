// A JSON-over-HTTP/1.1 client on one keep-alive socket: the same code drives Flotilla's KV API
// and etcd's v3 JSON gateway, so neither pays for a client the other does not.
import http from 'node:http';

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
  readonly location: string | undefined;
}

export class KeepAliveJsonClient {
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
