// The operator subcommands' client of the Metronome API (`flotilla jobs list|show|add|run|
// history|delete`): JSON over HTTP, through the masters (the leader hosts the framework, any
// master forwards) or to one jobs process given by --api (src/cli/commands/framework-api.ts),
// with Metronome's error bodies turned into one readable line.
import { type FrameworkApi, FrameworkUnreachableError } from '../commands/framework-api.ts';

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
  constructor(readonly api: FrameworkApi) {}

  async request<Answer>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
    let answer: { status: number; text: string };
    try {
      answer = await this.api.call(method, path, body);
    } catch (error) {
      if (!(error instanceof FrameworkUnreachableError)) throw error;
      throw new JobsApiError(
        0,
        `no jobs API answers at ${this.api.describe} (${error.message}): is \`flotilla jobs\` running there? ` +
          '(without --api or FLOTILLA_JOBS_API, the masters serve it)',
      );
    }
    let parsed: unknown = null;
    try {
      parsed = answer.text === '' ? null : JSON.parse(answer.text);
    } catch {
      parsed = { message: answer.text.slice(0, 500) };
    }
    if (answer.status >= 400) throw new JobsApiError(answer.status, describe(answer.status, parsed));
    return parsed as Answer;
  }
}
