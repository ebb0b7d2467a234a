// A workload: what each client does, what happens after the clients stop, and how the history
// is judged. Clients are slots with a logical process number that changes after every info
// (see history/events.ts).
import type { SeededRandom } from '../../../src/raft/random.ts';
import type { Anomaly, Validity } from '../checker/anomaly.ts';
import type { KvClient } from '../client/kv-client.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { CompletionType } from '../history/events.ts';
import type { Operation } from '../history/operations.ts';
import type { Completion, HistoryRecorder } from '../history/recorder.ts';

export type WorkloadName = 'register' | 'set' | 'tasks';
export const workloadNames: readonly WorkloadName[] = ['register', 'set', 'tasks'];

export class ClientSlot {
  process: number;

  constructor(
    readonly index: number,
    private readonly clientCount: number,
    readonly kv: KvClient,
    readonly random: SeededRandom,
    private readonly recorder: HistoryRecorder,
  ) {
    this.process = index;
  }

  /** Records the invocation, runs `body`, records its completion; a new process after info. */
  async run(
    f: Parameters<HistoryRecorder['invoke']>[2],
    key: string | undefined,
    value: unknown,
    body: () => Promise<Completion>,
  ): Promise<CompletionType> {
    const operation = this.recorder.invoke(this.process, this.index, f, key, value);
    let completion: Completion;
    try {
      completion = await body();
    } catch (error) {
      // A bug in the client itself: the outcome of what it sent is unknown.
      completion = { type: 'info', error: `CLIENT_ERROR: ${(error as Error).message}` };
    }
    this.recorder.complete(operation, completion);
    if (completion.type === 'info') this.process += this.clientCount;
    return completion.type;
  }
}

export interface WorkloadCheck {
  readonly valid: Validity;
  readonly anomalies: readonly Anomaly[];
  /** Workload-specific figures for the report (keys checked, lost, recovered, …). */
  readonly summary: Readonly<Record<string, unknown>>;
}

export interface Workload {
  readonly name: WorkloadName;
  /** One operation by this client. */
  step(slot: ClientSlot): Promise<void>;
  /** After the clients stop and the cluster is healed: final reads from every master. */
  finish(slot: ClientSlot, cluster: Cluster): Promise<void>;
  check(operations: readonly Operation[]): WorkloadCheck;
}
