// A minimal Mesos v1 scheduler client for tests, as an Apache Mesos framework client speaks:
// SUBSCRIBE over fetch, records decoded with the RecordIO decoder, calls with Mesos-Stream-Id.
import os from 'node:os';
import * as assert from 'uvu/assert';
import type { SchedulerEvent, SchedulerEventType } from '../../../src/protocol/scheduler.ts';
import { withTimeout } from '../../support/wait.ts';
import { asEvent, RecordReader } from './event-stream.ts';

export interface CallAnswer {
  readonly status: number;
  /** Parsed JSON, the text when it is not JSON, or null for an empty body. */
  readonly body: unknown;
  readonly headers: Headers;
}

export type SchedulerEventOf<Type extends SchedulerEventType> = Extract<SchedulerEvent, { type: Type }>;

export async function schedulerPost(
  baseUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<CallAnswer> {
  const response = await fetch(`${baseUrl}/api/v1/scheduler`, {
    method: 'POST',
    redirect: 'manual',
    signal: AbortSignal.timeout(20_000),
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

export const frameworkInfo = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  // Tasks run as the framework's user: whoever runs the tests, as `flotilla run` sends.
  user: os.userInfo().username,
  name: 'test-framework',
  failover_timeout: 60,
  ...overrides,
});

export class SchedulerClient {
  frameworkId = '';

  private constructor(
    readonly baseUrl: string,
    readonly response: Response,
    readonly streamId: string,
    private readonly records: RecordReader<SchedulerEvent>,
  ) {}

  static async subscribe(
    baseUrl: string,
    info: Record<string, unknown> = frameworkInfo(),
    extra: Record<string, unknown> = {},
  ): Promise<SchedulerClient> {
    const controller = new AbortController();
    const id = info.id as { value: string } | undefined;
    const response = await fetch(`${baseUrl}/api/v1/scheduler`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      signal: controller.signal,
      body: JSON.stringify({
        ...(id === undefined ? {} : { framework_id: id }),
        type: 'SUBSCRIBE',
        subscribe: { framework_info: info, ...extra },
      }),
    });
    if (response.status !== 200 || response.body === null)
      throw new Error(`SUBSCRIBE answered ${response.status}: ${await response.text()}`);
    const client = new SchedulerClient(
      baseUrl,
      response,
      response.headers.get('mesos-stream-id') ?? '',
      new RecordReader(response.body.getReader(), controller, asEvent<SchedulerEvent>),
    );
    const subscribed = await client.nextOf('SUBSCRIBED');
    client.frameworkId = subscribed.subscribed.framework_id.value;
    return client;
  }

  async call(type: string, body: Record<string, unknown> = {}): Promise<CallAnswer> {
    return schedulerPost(
      this.baseUrl,
      { framework_id: { value: this.frameworkId }, type, ...body },
      { 'mesos-stream-id': this.streamId },
    );
  }

  async callOk(type: string, body: Record<string, unknown> = {}, status = 202): Promise<void> {
    const answer = await this.call(type, body);
    assert.is(answer.status, status, `${type}: ${JSON.stringify(answer.body)}`);
  }

  async next(timeoutMs = 10_000): Promise<SchedulerEvent> {
    return withTimeout(this.records.next(), timeoutMs, 'the next scheduler event');
  }

  /** Skips events until one of `type` for which `match` holds. */
  async nextOf<Type extends SchedulerEventType>(
    type: Type,
    match: (event: SchedulerEventOf<Type>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<SchedulerEventOf<Type>> {
    return this.records.nextWhere(
      (event): event is SchedulerEventOf<Type> => event.type === type && match(event as SchedulerEventOf<Type>),
      timeoutMs,
      `a ${type} event`,
    );
  }

  /** The next event of `type` if one comes within `timeoutMs`, else null. */
  async maybeNextOf<Type extends SchedulerEventType>(
    type: Type,
    timeoutMs: number,
  ): Promise<SchedulerEventOf<Type> | null> {
    try {
      return await this.nextOf(type, () => true, timeoutMs);
    } catch {
      return null;
    }
  }

  ended(timeoutMs = 10_000): Promise<boolean> {
    return this.records.ended(timeoutMs);
  }

  close(): void {
    this.records.close();
  }
}
