// Quota during one allocation cycle (Mesos "quota.md", 1.9+ semantics): a role's consumption
// is what is reserved for it (allocated or not) plus the unreserved resources it holds in tasks
// and offers, counting its sub-roles. A limit is never exceeded; a guarantee is offered first
// (stage 1), and later offers (stage 2) leave enough unreserved resources free to still meet
// every guarantee not yet met (Mesos' "required headroom").
//
// Nested guarantees (on "a" and on "a/b") are counted independently, so the headroom held back
// may be more than strictly needed; Mesos forbids a child guarantee above its parent's anyway.
import type { Role } from '../state-machine/roles.ts';
import type { QuotaEntry } from '../state-machine/state.ts';
import type { Resources } from '../state-machine/resources.ts';
import { mergeQuantities } from '../state-machine/quantities.ts';
import { addQuantities, fromRecord, type Quantities } from './quantities.ts';

/** "a/b/c" → ["a/b/c", "a/b", "a"]. */
export function selfAndAncestors(role: Role): Role[] {
  const out: Role[] = [role];
  for (let cut = role.lastIndexOf('/'); cut > 0; cut = role.lastIndexOf('/', cut - 1)) out.push(role.slice(0, cut));
  return out;
}

interface QuotaState {
  readonly guarantees: Quantities;
  readonly limits: Quantities;
  readonly consumed: Quantities;
}

export class QuotaBook {
  readonly #quotas = new Map<Role, QuotaState>();
  /** Unreserved resources free on offerable agents, not yet offered this cycle. */
  readonly #available: Quantities = new Map();
  #required: Quantities | null = null;

  constructor(quotas: Iterable<QuotaEntry>) {
    for (const entry of quotas) {
      this.#quotas.set(entry.role, {
        guarantees: fromRecord(entry.guarantees),
        limits: fromRecord(entry.limits),
        consumed: new Map(),
      });
    }
  }

  get isEmpty(): boolean {
    return this.#quotas.size === 0;
  }

  /** Counts `resources` held or reserved by `role` toward its quota and its ancestors'. */
  consume(role: Role, resources: Resources, only?: 'unreserved' | 'reserved'): void {
    if (this.#quotas.size === 0) return;
    this.#required = null;
    for (const owner of selfAndAncestors(role)) {
      const quota = this.#quotas.get(owner);
      if (quota !== undefined) addQuantities(quota.consumed, resources, 1, only);
    }
  }

  /** Counts quantities `role` holds (unreserved, in tasks and offers) toward its quota and its ancestors'. */
  consumeQuantities(role: Role, quantities: ReadonlyMap<string, number>): void {
    if (this.#quotas.size === 0) return;
    this.#required = null;
    for (const owner of selfAndAncestors(role)) {
      const quota = this.#quotas.get(owner);
      if (quota !== undefined) mergeQuantities(quota.consumed, quantities);
    }
  }

  addAvailable(unreservedFree: Resources): void {
    addQuantities(this.#available, unreservedFree, 1, 'unreserved');
  }

  /** An offer of `resources` to `role` was made this cycle. */
  charge(role: Role, resources: Resources): void {
    this.consume(role, resources, 'unreserved');
    addQuantities(this.#available, resources, -1, 'unreserved');
  }

  deficit(role: Role): Quantities {
    const out: Quantities = new Map();
    const quota = this.#quotas.get(role);
    if (quota === undefined) return out;
    for (const [name, guaranteed] of quota.guarantees) {
      const missing = guaranteed - (quota.consumed.get(name) ?? 0);
      if (missing > 0) out.set(name, missing);
    }
    return out;
  }

  /** Roles whose guarantee is not met, in name order. */
  rolesBelowGuarantee(): Role[] {
    return [...this.#quotas.keys()].filter((role) => this.deficit(role).size > 0).sort();
  }

  /** Per name, how much more unreserved `role` may take before some limit on its path is reached. */
  limitCaps(role: Role): Map<string, number> {
    const caps = new Map<string, number>();
    for (const owner of selfAndAncestors(role)) {
      const quota = this.#quotas.get(owner);
      if (quota === undefined) continue;
      for (const [name, limit] of quota.limits) {
        const left = Math.max(0, limit - (quota.consumed.get(name) ?? 0));
        caps.set(name, Math.min(caps.get(name) ?? Infinity, left));
      }
    }
    return caps;
  }

  /**
   * Per name, how much unreserved `role` may take without eating into what other roles'
   * guarantees still need: what is available, less all deficits, plus `role`'s own deficit.
   */
  headroomCaps(role: Role): Map<string, number> {
    const required = this.#requiredHeadroom();
    if (required.size === 0) return new Map();
    const own: Quantities = new Map();
    for (const owner of selfAndAncestors(role)) {
      for (const [name, missing] of this.deficit(owner)) own.set(name, Math.max(own.get(name) ?? 0, missing));
    }
    const caps = new Map<string, number>();
    for (const [name, needed] of required) {
      caps.set(name, Math.max(0, (this.#available.get(name) ?? 0) - needed + (own.get(name) ?? 0)));
    }
    return caps;
  }

  /** Sum of every role's deficit; recomputed only after a charge or consumption changed it. */
  #requiredHeadroom(): Quantities {
    if (this.#required !== null) return this.#required;
    const required: Quantities = new Map();
    for (const owner of this.#quotas.keys()) {
      for (const [name, missing] of this.deficit(owner)) required.set(name, (required.get(name) ?? 0) + missing);
    }
    this.#required = required;
    return required;
  }

  guarantees(role: Role): Quantities {
    return this.#quotas.get(role)?.guarantees ?? new Map();
  }
}

/** The smaller cap per name. */
export function mergeCaps(left: ReadonlyMap<string, number>, right: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map(left);
  for (const [name, cap] of right) out.set(name, Math.min(out.get(name) ?? Infinity, cap));
  return out;
}
