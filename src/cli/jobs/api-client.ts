// The operator subcommands' client of the Metronome API (`flotilla jobs list|show|add|run|
// history|delete`): JSON over HTTP to the jobs API, bounded in time, with Metronome's error
// bodies turned into one readable line.
const requestTimeoutMs = 15_000;

export class JobsApiError extends Error {
  override name = 'JobsApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface MetronomeErrorBody {
  readonly message?: string;
  readonly details?: readonly { readonly path: string; readonly errors: readonly string[] }[];
}

function describe(status: number, body: unknown): string {
  const error = (typeof body === 'object' && body !== null ? body : {}) as MetronomeErrorBody;
  const details = (error.details ?? []).map((detail) => `${detail.path || '/'}: ${detail.errors.join('; ')}`);
  return [`${status} ${error.message ?? 'error'}`, ...details].join('\n  ');
}

export class JobsApiClient {
  constructor(readonly address: string) {}

  async request<Answer>(method: string, path: string, body?: unknown): Promise<Answer> {
    let response: Response;
    try {
      response = await fetch(`http://${this.address}${path}`, {
        method,
        headers:
          body === undefined
            ? { accept: 'application/json' }
            : { 'content-type': 'application/json', accept: 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      throw new JobsApiError(
        0,
        `no jobs API answers at ${this.address} (${(error as Error).message}): is \`flotilla jobs\` running? (--api or FLOTILLA_JOBS_API)`,
      );
    }
    const text = await response.text();
    const parsed: unknown = text === '' ? null : JSON.parse(text);
    if (response.status >= 400) throw new JobsApiError(response.status, describe(response.status, parsed));
    return parsed as Answer;
  }
}
