// The register workload (Jepsen's etcd register): reads, blind writes and compare-and-sets on a
// few keys at a time. A key is retired after `operationsPerKey` invocations and a fresh one
// takes its place, so each key's history stays small enough for the linearizability search
// (Jepsen's independent keys). Every written value is unique, which is what lets the checker
// compare by value (checker/register-model.ts). A cas sends If-Match with the version this
// client last saw for the key (0 when it has seen none: "only if absent").
import { checkRegister } from '../checker/register-checker.ts';
import { retriedWrites } from '../checker/retries.ts';
import type { KvOutcome } from '../client/kv-client.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { Operation } from '../history/operations.ts';
import type { Completion } from '../history/recorder.ts';
import { maximum } from '../report/stats.ts';
import type { ClientSlot, Workload, WorkloadCheck } from './workload.ts';

export const registerNamespace = 'jepsen-register';

export interface RegisterOptions {
  readonly activeKeys: number;
  readonly operationsPerKey: number;
}

export const defaultRegisterOptions: RegisterOptions = { activeKeys: 3, operationsPerKey: 300 };

const maxFinalReadFailuresInARow = 3;

export class RegisterWorkload implements Workload {
  readonly name = 'register' as const;
  private readonly active: { key: string; invoked: number }[] = [];
  private readonly allKeys: string[] = [];
  private nextKey = 0;
  private readonly writesBy = new Map<number, number>();
  /** What each client last saw of each key: the expectation of its next cas. */
  private readonly known = new Map<string, { value: string; version: number }>();

  constructor(private readonly options: RegisterOptions = defaultRegisterOptions) {
    for (let count = 0; count < options.activeKeys; count++) this.active.push({ key: this.freshKey(), invoked: 0 });
  }

  async step(slot: ClientSlot): Promise<void> {
    const key = this.chooseKey(slot);
    const roll = slot.random.next();
    if (roll < 0.5) await this.read(slot, key);
    else if (roll < 0.7) await this.write(slot, key);
    else await this.cas(slot, key);
  }

  /** A last read of every key from every master: all must agree with one linearization. */
  async finish(slot: ClientSlot, cluster: Cluster): Promise<void> {
    // A member that answers no read (one that never caught up) would cost every key its whole
    // deadline: after a few failures in a row it is left out, and the reads it missed are not
    // operations at all (the checker needs none of them).
    const failuresInARow = new Map<string, number>();
    for (const key of this.allKeys) {
      for (const node of cluster.runningMembers()) {
        if ((failuresInARow.get(node) ?? 0) >= maxFinalReadFailuresInARow) continue;
        const type = await slot.run('read', key, null, async () => {
          const outcome = await slot.kv.read(registerNamespace, key, node);
          return outcome.type === 'ok'
            ? { type: 'ok', value: outcome.value, node: outcome.node }
            : { type: 'fail', error: outcome.error };
        });
        failuresInARow.set(node, type === 'ok' ? 0 : (failuresInARow.get(node) ?? 0) + 1);
      }
    }
  }

  check(operations: readonly Operation[]): WorkloadCheck {
    const result = checkRegister(operations);
    const unknownKeys = result.keys.filter((key) => key.valid === 'unknown');
    return {
      valid: result.valid,
      anomalies: result.anomalies,
      summary: {
        keys: result.keys.length,
        invalidKeys: result.keys.filter((key) => key.valid === false).map((key) => key.key),
        unknownKeys: unknownKeys.map((key) => ({ key: key.key, reason: key.reason })),
        searchSteps: result.keys.reduce((sum, key) => sum + key.steps, 0),
        largestKeyHistory: maximum(result.keys.map((key) => key.operations)),
        retriedWrites: retriedWrites(operations),
      },
    };
  }

  private freshKey(): string {
    const key = `r${this.nextKey++}`;
    this.allKeys.push(key);
    return key;
  }

  private chooseKey(slot: ClientSlot): string {
    const position = slot.random.nextInt(this.active.length);
    const slotKey = this.active[position]!;
    slotKey.invoked += 1;
    if (slotKey.invoked >= this.options.operationsPerKey) this.active[position] = { key: this.freshKey(), invoked: 0 };
    return slotKey.key;
  }

  private knownKey(slot: ClientSlot, key: string): string {
    return `${slot.index}/${key}`;
  }

  private uniqueValue(slot: ClientSlot): string {
    const count = (this.writesBy.get(slot.index) ?? 0) + 1;
    this.writesBy.set(slot.index, count);
    return `c${slot.index}.${count}`;
  }

  private async read(slot: ClientSlot, key: string): Promise<void> {
    await slot.run('read', key, null, async () => {
      const outcome = await slot.kv.read(registerNamespace, key);
      if (outcome.type !== 'ok') return { type: 'fail', error: outcome.error };
      if (outcome.value.value === null) this.known.delete(this.knownKey(slot, key));
      else this.known.set(this.knownKey(slot, key), { value: outcome.value.value, version: outcome.value.version });
      return { type: 'ok', value: outcome.value, node: outcome.node };
    });
  }

  private async write(slot: ClientSlot, key: string): Promise<void> {
    const value = this.uniqueValue(slot);
    await slot.run('write', key, { value }, async () => {
      const outcome = await slot.kv.write(registerNamespace, key, value, null);
      if (outcome.type !== 'ok') return writeFailure(outcome);
      this.known.set(this.knownKey(slot, key), { value, version: outcome.value.version });
      return writeSuccess(outcome);
    });
  }

  private async cas(slot: ClientSlot, key: string): Promise<void> {
    const seen = this.known.get(this.knownKey(slot, key));
    const value = this.uniqueValue(slot);
    const input = { expected: seen?.value ?? null, expectedVersion: seen?.version ?? 0, value };
    await slot.run('cas', key, input, async () => {
      const outcome = await slot.kv.write(registerNamespace, key, value, input.expectedVersion);
      if (outcome.type !== 'ok') {
        if (outcome.type === 'fail' && outcome.error === 'VERSION_MISMATCH')
          this.known.delete(this.knownKey(slot, key));
        return writeFailure(outcome);
      }
      this.known.set(this.knownKey(slot, key), { value, version: outcome.value.version });
      return writeSuccess(outcome);
    });
  }
}

/** ok {version[, unknownAttempts]}: the attempts that went unanswered before, when there were any. */
function writeSuccess(outcome: Extract<KvOutcome<{ version: number }>, { type: 'ok' }>): Completion {
  const attempts = outcome.unknownAttempts === undefined ? {} : { unknownAttempts: outcome.unknownAttempts };
  return { type: 'ok', value: { ...outcome.value, ...attempts }, node: outcome.node };
}

function writeFailure(outcome: Exclude<KvOutcome<{ version: number }>, { type: 'ok' }>): Completion {
  return {
    type: outcome.type,
    error: outcome.error,
    ...(outcome.node ? { node: outcome.node } : {}),
    ...(outcome.unknownAttempts === undefined ? {} : { value: { unknownAttempts: outcome.unknownAttempts } }),
  };
}
