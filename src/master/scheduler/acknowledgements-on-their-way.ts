// ACKNOWLEDGEs the leader has answered 202 and handed to a task_status_batch entry that is
// proposed but not yet committed or failed (calls.ts `acknowledge`). Mesos' scheduler API answers
// every call but SUBSCRIBE with 202 once the master has accepted it, not once it took effect; an
// acknowledgement lost in a leader change costs only a delivery more (the update stays pending in
// the replicated state and the next leader sends it again). Leader memory only.
//
// The update retries (update-retries.ts) do not send such an update again: each copy would cost
// the framework another ACKNOWLEDGE while the first is on its way (the launch bench at 1,000
// agents: acknowledgements behind the commit, resends of acknowledged updates, each answered again).
// An entry leaves when its batch settles: committed (the state shows it acknowledged) or failed
// (it is pending again and due at its next retry, as any other).
import { assert } from '../../util/assert.ts';
import type { TaskKey } from '../../state-machine/ids.ts';

export class AcknowledgementsOnTheirWay {
  /** Uuids by task: a task has few updates on their way at once (its oldest and its terminal one). */
  readonly #byTask = new Map<TaskKey, Set<string>>();
  #size = 0;

  /** `limit`: beyond it an ACKNOWLEDGE waits for its commit, as before, so a flood of them waits on Raft. */
  constructor(readonly limit: number) {
    assert(Number.isInteger(limit) && limit > 0, `acknowledgements on their way: limit ${limit} > 0`);
  }

  has(key: TaskKey, uuid: string): boolean {
    return this.#byTask.get(key)?.has(uuid) === true;
  }

  /** Records one; false when it is already there or the limit is reached (then nothing changes). */
  add(key: TaskKey, uuid: string): boolean {
    if (this.#size >= this.limit || this.has(key, uuid)) return false;
    let uuids = this.#byTask.get(key);
    if (uuids === undefined) {
      uuids = new Set();
      this.#byTask.set(key, uuids);
    }
    uuids.add(uuid);
    this.#size += 1;
    return true;
  }

  /** Its batch settled. */
  remove(key: TaskKey, uuid: string): void {
    const uuids = this.#byTask.get(key);
    assert(uuids?.delete(uuid) === true, `acknowledgement ${key}/${uuid} was not on its way`);
    this.#size -= 1;
    if (uuids.size === 0) this.#byTask.delete(key);
    assert(this.#size >= 0, 'acknowledgements on their way: size >= 0');
  }

  get size(): number {
    return this.#size;
  }
}
