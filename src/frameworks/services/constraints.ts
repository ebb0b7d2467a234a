// Marathon's placement constraints (constraints.md, Constraints.scala), pure: does placing one
// more instance on an agent keep every constraint, given where the app's instances already are?
// A field is `hostname` (or @hostname), `@zone`/`@region` (the Mesos fault domain), or an agent
// attribute. An agent without the attribute fails every operator except UNLIKE, as in Marathon.
import type { Constraint } from './app-definition.ts';

/** What constraints read about an agent. */
export interface AgentFacts {
  readonly hostname: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly zone: string | null;
  readonly region: string | null;
}

export function fieldValue(agent: AgentFacts, field: string): string | null {
  if (field === 'hostname' || field === '@hostname') return agent.hostname;
  if (field === '@zone') return agent.zone;
  if (field === '@region') return agent.region;
  return agent.attributes[field] ?? null;
}

/** The values of the constrained fields, recorded with an instance. */
export function constrainedFields(constraints: readonly Constraint[], agent: AgentFacts): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field] of constraints) {
    const value = fieldValue(agent, field);
    if (value !== null) out[field] = value;
  }
  return out;
}

function fullMatch(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value);
}

function countBy(placed: readonly Readonly<Record<string, string>>[], field: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const fields of placed) {
    const value = fields[field];
    if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}

/**
 * True when one more instance on `agent` meets `constraint`. `placed` holds the constrained
 * field values of the app's live instances; `knownValues` every value of each field seen in
 * offers (GROUP_BY spreads over them).
 */
export function meetsConstraint(
  constraint: Constraint,
  agent: AgentFacts,
  placed: readonly Readonly<Record<string, string>>[],
  knownValues: ReadonlySet<string>,
): boolean {
  const [field, operator, value] = constraint;
  const own = fieldValue(agent, field);
  if (own === null) return operator === 'UNLIKE';
  switch (operator) {
    case 'UNIQUE':
      return !placed.some((fields) => fields[field] === own);
    case 'CLUSTER': {
      if (value !== undefined && value !== '') return own === value;
      const first = placed.find((fields) => fields[field] !== undefined);
      return first === undefined || first[field] === own;
    }
    case 'LIKE':
      return fullMatch(value ?? '', own);
    case 'UNLIKE':
      return !fullMatch(value ?? '', own);
    case 'IS':
      return own === value;
    case 'MAX_PER':
      return (countBy(placed, field).get(own) ?? 0) < Number(value);
    case 'GROUP_BY':
      return groupByAllows(countBy(placed, field), own, knownValues, value === undefined ? 0 : Number(value));
  }
}

/**
 * GROUP_BY: an instance goes to a value that has the fewest instances among the values known
 * (seen in offers, or named by `expected` when offers have not shown them all yet), so
 * instances spread evenly and the app survives the loss of one value (a zone, a rack).
 */
function groupByAllows(
  counts: ReadonlyMap<string, number>,
  own: string,
  knownValues: ReadonlySet<string>,
  expected: number,
): boolean {
  const values = new Set([...knownValues, ...counts.keys(), own]);
  const ownCount = counts.get(own) ?? 0;
  // Values not seen yet count as empty: while fewer than `expected` values are known, a known
  // value may not get ahead of an unseen one.
  const unseen = Math.max(0, expected - values.size);
  const minimum = unseen > 0 ? 0 : Math.min(...[...values].map((item) => counts.get(item) ?? 0));
  return ownCount <= minimum;
}

export function meetsAll(
  constraints: readonly Constraint[],
  agent: AgentFacts,
  placed: readonly Readonly<Record<string, string>>[],
  knownValues: (field: string) => ReadonlySet<string>,
): boolean {
  return constraints.every((constraint) => meetsConstraint(constraint, agent, placed, knownValues(constraint[0])));
}
