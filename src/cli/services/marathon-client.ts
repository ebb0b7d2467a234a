// The few Marathon API calls `flotilla services list|show|deploy|scale|restart|delete` make,
// over HTTP to a services daemon (any instance: a standby proxies to the leader). Errors carry
// Marathon's message, and 422 details are spelled out field by field.
export class MarathonCallError extends Error {
  override name = 'MarathonCallError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const requestTimeoutMs = 30_000;

export class MarathonClient {
  constructor(readonly address: string) {}

  async call<Answer>(method: string, path: string, body?: unknown): Promise<Answer> {
    let response: Response;
    try {
      response = await fetch(`http://${this.address}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      throw new MarathonCallError(
        0,
        `no services API answers at ${this.address} (${(error as Error).message}); is \`flotilla services\` running? (--marathon host:port)`,
      );
    }
    const text = await response.text();
    if (response.status >= 400) throw new MarathonCallError(response.status, explain(response.status, text));
    return (text === '' ? null : JSON.parse(text)) as Answer;
  }
}

function explain(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: string; details?: { path: string; errors: string[] }[] };
    const details = (parsed.details ?? []).map((detail) => `\n  ${detail.path}: ${detail.errors.join('; ')}`).join('');
    return `${status}: ${parsed.message ?? text}${details}`;
  } catch {
    return `${status}: ${text.slice(0, 500)}`;
  }
}
