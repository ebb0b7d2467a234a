// The few Marathon API calls `flotilla services list|show|deploy|scale|restart|delete` make,
// through the masters (any master: the leader hosts the framework, a follower forwards) or to
// one services process given by --api (src/cli/commands/framework-api.ts). Errors carry
// Marathon's message, and 422 details are spelled out field by field.
import { type FrameworkApi, FrameworkUnreachableError } from '../commands/framework-api.ts';

export class MarathonCallError extends Error {
  override name = 'MarathonCallError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class MarathonClient {
  constructor(readonly api: FrameworkApi) {}

  async call<Answer>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
    let answer: { status: number; text: string };
    try {
      answer = await this.api.call(method, path, body);
    } catch (error) {
      if (!(error instanceof FrameworkUnreachableError)) throw error;
      throw new MarathonCallError(
        0,
        `no services API answers at ${this.api.describe} (${error.message}); is \`flotilla services\` running there? ` +
          '(without --api, the masters serve it)',
      );
    }
    if (answer.status >= 400) throw new MarathonCallError(answer.status, explain(answer.status, answer.text));
    return (answer.text === '' ? null : JSON.parse(answer.text)) as Answer;
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
