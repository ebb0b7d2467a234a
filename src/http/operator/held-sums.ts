// A sum of many tasks' resources (GET_FRAMEWORKS' allocated_resources), the same as folding them
// with `add` (resources.ts) but without a new list per task: at 100,000 tasks the fold was about a
// fifth of GET_STATE's CPU once task texts were cached (issue 12). Plain scalars (no volume) are
// summed as whole thousandths per (name, role), as `add` sums them; ranges and volumes, rare on a
// task, go through `add` as before. Plain scalars never share a key with a volume (a volume's key
// carries its persistence id) and `add` merges keys in order, so the result is the fold's.
import { add, emptyResources, type Resources, type ScalarResource, sum } from '../../state-machine/resources.ts';

const millisPerUnit = 1000;

interface ScalarSum {
  readonly name: string;
  readonly role: string;
  millis: number;
}

export class HeldSum {
  /** By name, then by role: two lookups and no key string per resource. */
  readonly #scalars = new Map<string, Map<string, ScalarSum>>();
  #others: Resources = emptyResources;

  add(resources: Resources): void {
    for (const resource of resources) {
      if (resource.type !== 'SCALAR' || resource.disk !== undefined) {
        this.#others = add(this.#others, [resource] as readonly ScalarResource[] as Resources);
        continue;
      }
      let byRole = this.#scalars.get(resource.name);
      if (byRole === undefined) {
        byRole = new Map();
        this.#scalars.set(resource.name, byRole);
      }
      const found = byRole.get(resource.role);
      const millis = Math.round(resource.scalar * millisPerUnit);
      if (found === undefined) byRole.set(resource.role, { name: resource.name, role: resource.role, millis });
      else found.millis += millis;
    }
  }

  /** The canonical sum (`sum` sorts the few plain scalars into key order). */
  total(): Resources {
    const scalars: ScalarResource[] = [];
    for (const byRole of this.#scalars.values())
      for (const { name, role, millis } of byRole.values())
        scalars.push({ name, role, type: 'SCALAR', scalar: millis / millisPerUnit });
    return add(sum([scalars as readonly ScalarResource[] as Resources]), this.#others);
  }
}
