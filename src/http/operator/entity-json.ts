// The JSON text of one task or agent as the state answers carry it, kept per entity object.
// Entities never change in place (writes.ts replaces a task or an agent on every change), so the
// text made for one object stays true for as long as that object lives; a WeakMap lets the entry
// go with its entity when the state drops it (a replaced task, a pruned one). At 100,000 tasks,
// converting (mesosTask) and stringifying every unchanged task again was most of GET_STATE's CPU
// and garbage on every read (issue 12).
//
// The text is JSON.stringify's; the RecordIO streams' asciiJson text is derived from it, and shares
// its string when the two are the same (nearly always), so a second encoding costs no second copy.
import { asciiJson, asciiText } from '../../protocol/ascii-json.ts';
import { mesosAgent } from '../../master/mesos/mesos-entities.ts';
import { mesosTask } from '../../master/mesos/mesos-tasks.ts';
import type { Agent, Task } from '../../state-machine/state.ts';

export type Stringify = (value: object) => string;

export class EntityJson<Entity extends object> {
  readonly #json = new WeakMap<Entity, string>();
  readonly #ascii = new WeakMap<Entity, string>();

  constructor(readonly convert: (entity: Entity) => object) {}

  /** `stringify(convert(entity))`, from the cache for JSON.stringify and asciiJson. */
  text(entity: Entity, stringify: Stringify): string {
    if (stringify === JSON.stringify) return this.#jsonOf(entity);
    if (stringify !== asciiJson) return stringify(this.convert(entity));
    let text = this.#ascii.get(entity);
    if (text === undefined) {
      text = asciiText(this.#jsonOf(entity));
      this.#ascii.set(entity, text);
    }
    return text;
  }

  #jsonOf(entity: Entity): string {
    let text = this.#json.get(entity);
    if (text === undefined) {
      text = JSON.stringify(this.convert(entity));
      this.#json.set(entity, text);
    }
    return text;
  }
}

const tasks = new EntityJson<Task>(mesosTask);
const agents = new EntityJson<Agent>(mesosAgent);

/** `stringify(mesosTask(task))`. */
export const taskText = (task: Task, stringify: Stringify): string => tasks.text(task, stringify);

/** `stringify(mesosAgent(agent))`. */
export const agentText = (agent: Agent, stringify: Stringify): string => agents.text(agent, stringify);
