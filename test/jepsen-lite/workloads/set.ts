// The set workload (Jepsen's etcd set): unique adds, then a final read. An add appends its
// element to a bucket key with compare-and-set: read the bucket, PUT the list plus the element
// with If-Match on the version read, and on 412 read again. Buckets spread contention and stay
// far below the value size limit: element n goes to bucket `b{n mod B}.{generation}`, a new
// generation every B × bucketCapacity elements. The final read asks every master for every
// bucket (linearizable reads), after the cluster has healed and been quiet.
import type { Anomaly } from '../checker/anomaly.ts';
import { summarizeOperation } from '../checker/anomaly.ts';
import { retriedWrites } from '../checker/retries.ts';
import { checkSet } from '../checker/set-checker.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { Operation } from '../history/operations.ts';
import type { Completion } from '../history/recorder.ts';
import type { ClientSlot, Workload, WorkloadCheck } from './workload.ts';

export const setNamespace = 'jepsen-set';

export interface SetOptions {
  readonly buckets: number;
  readonly bucketCapacity: number;
  /** Read-then-cas rounds one add may take before it gives up (a definite failure). */
  readonly maxRounds: number;
  readonly finalReadAttempts: number;
}

export const defaultSetOptions: SetOptions = {
  buckets: 8,
  bucketCapacity: 2_000,
  maxRounds: 10,
  finalReadAttempts: 20,
};

export function parseBucket(value: string | null): string[] {
  return value === null || value === '' ? [] : value.split(',');
}

export class SetWorkload implements Workload {
  readonly name = 'set' as const;
  private nextElement = 0;
  private readonly buckets = new Set<string>();

  constructor(private readonly options: SetOptions = defaultSetOptions) {}

  bucketOf(element: number): string {
    const generation = Math.floor(element / (this.options.buckets * this.options.bucketCapacity));
    return `b${element % this.options.buckets}.${generation}`;
  }

  async step(slot: ClientSlot): Promise<void> {
    const number = this.nextElement++;
    const element = `e${number}`;
    const bucket = this.bucketOf(number);
    this.buckets.add(bucket);
    await slot.run('add', bucket, { element }, () => this.add(slot, bucket, element));
  }

  async finish(slot: ClientSlot, cluster: Cluster): Promise<void> {
    // A member that fails every attempt at one bucket (it never caught up) is left out of the
    // rest: each bucket would cost it the whole retry budget. Other members still read them all.
    const unreadable = new Set<string>();
    for (const bucket of [...this.buckets].sort()) {
      for (const node of cluster.runningMembers()) {
        if (unreadable.has(node)) continue;
        const type = await slot.run('final-read', bucket, null, async () => {
          let last = 'NO_ATTEMPT';
          for (let attempt = 0; attempt < this.options.finalReadAttempts; attempt++) {
            const outcome = await slot.kv.read(setNamespace, bucket, node);
            if (outcome.type === 'ok')
              return {
                type: 'ok',
                value: { elements: parseBucket(outcome.value.value), version: outcome.value.version },
                node,
              };
            last = outcome.error;
          }
          return { type: 'fail', error: last, node };
        });
        if (type !== 'ok') unreadable.add(node);
      }
    }
  }

  check(operations: readonly Operation[]): WorkloadCheck {
    const result = checkSet(operations);
    const anomalies: Anomaly[] = [...result.anomalies];
    // An add that found its element already there had an earlier round's compare-and-set apply
    // although it answered a definite failure: a round ends in a failure only on a 412, and a
    // 412 is final for its key (an attempt retried after an indeterminate answer carries the
    // same Idempotency-Key: once one applied, every other answers its result).
    const alreadyThere = operations.filter(
      (operation) =>
        operation.f === 'add' && (operation.output as { alreadyPresent?: boolean } | null)?.alreadyPresent === true,
    );
    if (alreadyThere.length > 0) {
      anomalies.push({
        type: 'failed-attempt-applied',
        message: `${alreadyThere.length} add(s) found their element already present after a definite failure`,
        operations: alreadyThere.slice(0, 20).map(summarizeOperation),
      });
    }
    return {
      valid: alreadyThere.length > 0 ? false : result.valid,
      anomalies,
      summary: {
        attempted: result.attempted,
        acknowledged: result.acknowledged,
        failed: result.failed,
        indeterminate: result.indeterminate,
        finalSize: result.finalSize,
        lost: result.lost.length,
        unexpected: result.unexpected.length,
        recovered: result.recovered.length,
        failedPresent: result.failedPresent.length,
        duplicates: result.duplicates.length,
        bucketsRead: result.bucketsRead,
        bucketsUnread: result.bucketsUnread,
        lostElements: result.lost.slice(0, 50),
        retriedWrites: retriedWrites(operations.filter((operation) => operation.f === 'add')),
      },
    };
  }

  /** Read the bucket, compare-and-set it with the element appended; again on 412. */
  private async add(slot: ClientSlot, bucket: string, element: string): Promise<Completion> {
    let lastError = 'NO_ATTEMPT';
    let unknownAttempts = 0;
    for (let round = 1; round <= this.options.maxRounds; round++) {
      const read = await slot.kv.read(setNamespace, bucket);
      if (read.type !== 'ok') {
        lastError = `READ_${read.error}`;
        continue;
      }
      const elements = parseBucket(read.value.value);
      if (elements.includes(element))
        return {
          type: 'ok',
          value: { version: read.value.version, attempts: round, alreadyPresent: true },
          node: read.node,
        };
      const write = await slot.kv.write(setNamespace, bucket, [...elements, element].join(','), read.value.version);
      unknownAttempts += write.unknownAttempts ?? 0;
      const retried = unknownAttempts > 0 ? { unknownAttempts } : {};
      if (write.type === 'ok')
        return { type: 'ok', value: { version: write.value.version, attempts: round, ...retried }, node: write.node };
      if (write.type === 'info')
        return {
          type: 'info',
          error: write.error,
          ...(write.node ? { node: write.node } : {}),
          ...(unknownAttempts > 0 ? { value: retried } : {}),
        };
      lastError = write.error;
      if (write.error !== 'VERSION_MISMATCH')
        await new Promise((resolve) => setTimeout(resolve, 50 + slot.random.nextInt(100)));
    }
    return {
      type: 'fail',
      error: lastError === 'VERSION_MISMATCH' ? 'CAS_CONTENTION' : lastError,
      ...(unknownAttempts > 0 ? { value: { unknownAttempts } } : {}),
    };
  }
}
