// The state as tables: one per entity kind, each row a key and the entity's canonical JSON. The
// snapshot writer, the snapshot reader and the state hash all walk this one list, in this order,
// so they cannot disagree on what the state is. Adding a map to State means adding a table here
// (and bumping the snapshot format version). The derived indexes are not a table: they are
// rebuilt from these on restore.
import { canonicalJson } from './canonical-json.ts';
import {
  agentSchema,
  executorSchema,
  frameworkSchema,
  historyLimitsSchema,
  kvEntrySchema,
  machineStatusSchema,
  maintenanceScheduleSchema,
  offerSchema,
  operationRecordSchema,
  quotaEntrySchema,
  taskSchema,
  weightEntrySchema,
} from './entity-schema.ts';
import { executorKey, taskKey } from './ids.ts';
import { sortedKeys } from './ordering.ts';
import { SchemaError, type Schema } from './schema.ts';
import { kvKey, machineKey, type ReplicatedState, type State } from './state.ts';

/**
 * A table's entities as they are at one moment: keys and values in the map's own order, copied
 * into arrays (pointers only; entities are never changed in place), which is far cheaper than
 * copying the map. A writer that yields between slices works from this, not the live state.
 */
export interface CapturedTable {
  readonly table: Table;
  readonly keys: readonly string[];
  readonly values: readonly unknown[];
}

/** A table with its entity type hidden, so tables of different kinds share one list. */
export interface Table {
  /** Also the SQLite table name: lower case letters and underscores only. */
  readonly name: string;
  /** The snapshot format that added it: a snapshot of an older format has no such table. */
  readonly sinceFormat: number;
  /** [key, canonical JSON] in key order. */
  rows(state: ReplicatedState): [string, string][];
  /** The entities now, unsorted (see CapturedTable), for a writer that yields between rows. */
  capture(state: ReplicatedState): CapturedTable;
  /** One captured value's row. */
  rowJson(value: unknown): string;
  /**
   * Parses one row and puts it into `state`; throws SchemaError when the row is not an entity of
   * this table. The caller rejects duplicate keys (a later row would replace an earlier one).
   */
  load(state: State, key: string, json: unknown): void;
  /**
   * Puts an entity parsed from a row its table's hash vouches for (snapshot formats 9 and 10
   * write `JSON.stringify` of the entity) into `state` without its schema; throws SchemaError
   * when the row is stored under another key. The invariants still check the state.
   */
  loadVouched(state: State, key: string, json: unknown): void;
}

interface TableSpec<V> {
  readonly name: string;
  readonly sinceFormat?: number;
  readonly schema: Schema<V>;
  entries(state: ReplicatedState): ReadonlyMap<string, V>;
  keyOf(value: V): string;
  insert(state: State, value: V): void;
}

function defineTable<V>(spec: TableSpec<V>): Table {
  const table: Table = {
    name: spec.name,
    sinceFormat: spec.sinceFormat ?? 1,
    rows(state) {
      const entries = spec.entries(state);
      return sortedKeys(entries).map((key) => [key, canonicalJson(entries.get(key))]);
    },
    capture(state) {
      const entries = spec.entries(state);
      return { table, keys: [...entries.keys()], values: [...entries.values()] };
    },
    rowJson: (value) => canonicalJson(value),
    load(state, key, json) {
      const path = `${spec.name}[${JSON.stringify(key)}]`;
      const value = spec.schema(json, path);
      if (spec.keyOf(value) !== key)
        throw new SchemaError(path, `the row belongs under key ${JSON.stringify(spec.keyOf(value))}`);
      spec.insert(state, value);
    },
    loadVouched(state, key, json) {
      const value = json as V;
      const ownKey = spec.keyOf(value);
      if (ownKey !== key)
        throw new SchemaError(
          `${spec.name}[${JSON.stringify(key)}]`,
          `the row belongs under key ${JSON.stringify(ownKey)}`,
        );
      spec.insert(state, value);
    },
  };
  return table;
}

const scheduleKey = 'schedule';
const limitsKey = 'limits';

/** Added in snapshot format 3; an older snapshot has no such table (its state had no limits). */
export const historyLimitsTableName = 'history_limits';

export const tables: readonly Table[] = [
  defineTable({
    name: 'agents',
    schema: agentSchema,
    entries: (state) => state.agents,
    keyOf: (agent) => agent.id,
    insert: (state, agent) => state.agents.set(agent.id, agent),
  }),
  defineTable({
    name: 'frameworks',
    schema: frameworkSchema,
    entries: (state) => state.frameworks,
    keyOf: (framework) => framework.id,
    insert: (state, framework) => state.frameworks.set(framework.id, framework),
  }),
  defineTable({
    name: 'offers',
    schema: offerSchema,
    entries: (state) => state.offers,
    keyOf: (offer) => offer.id,
    insert: (state, offer) => state.offers.set(offer.id, offer),
  }),
  defineTable({
    name: 'tasks',
    schema: taskSchema,
    entries: (state) => state.tasks,
    keyOf: (task) => taskKey(task.frameworkId, task.id),
    insert: (state, task) => state.tasks.set(taskKey(task.frameworkId, task.id), task),
  }),
  defineTable({
    name: 'executors',
    sinceFormat: 3,
    schema: executorSchema,
    entries: (state) => state.executors,
    keyOf: (executor) => executorKey(executor.agentId, executor.frameworkId, executor.info.id),
    insert: (state, executor) =>
      state.executors.set(executorKey(executor.agentId, executor.frameworkId, executor.info.id), executor),
  }),
  defineTable({
    name: 'quotas',
    schema: quotaEntrySchema,
    entries: (state) => state.quotas,
    keyOf: (quota) => quota.role,
    insert: (state, quota) => state.quotas.set(quota.role, quota),
  }),
  defineTable({
    name: 'weights',
    schema: weightEntrySchema,
    entries: (state) => state.weights,
    keyOf: (weight) => weight.role,
    insert: (state, weight) => state.weights.set(weight.role, weight),
  }),
  defineTable({
    name: 'maintenance_schedule',
    schema: maintenanceScheduleSchema,
    // Written even when empty, so a snapshot always says what the schedule is.
    entries: (state) => new Map([[scheduleKey, state.maintenanceSchedule]]),
    keyOf: () => scheduleKey,
    insert: (state, schedule) => {
      state.maintenanceSchedule = schedule;
    },
  }),
  defineTable({
    name: 'machines',
    schema: machineStatusSchema,
    entries: (state) => state.machines,
    keyOf: (status) => machineKey(status.machine),
    insert: (state, status) => state.machines.set(machineKey(status.machine), status),
  }),
  defineTable({
    name: 'kv',
    schema: kvEntrySchema,
    entries: (state) => state.kv,
    keyOf: (entry) => kvKey(entry.namespace, entry.key),
    insert: (state, entry) => state.kv.set(kvKey(entry.namespace, entry.key), entry),
  }),
  defineTable({
    name: historyLimitsTableName,
    schema: historyLimitsSchema,
    sinceFormat: 4,
    // Written even when unbounded, so a snapshot always says what the limits are.
    entries: (state) => new Map([[limitsKey, state.historyLimits]]),
    keyOf: () => limitsKey,
    insert: (state, limits) => {
      state.historyLimits = limits;
    },
  }),
  defineTable({
    name: 'operations',
    sinceFormat: 6,
    schema: operationRecordSchema,
    entries: (state) => state.operations,
    keyOf: (operation) => operation.key,
    insert: (state, operation) => state.operations.set(operation.key, operation),
  }),
];
