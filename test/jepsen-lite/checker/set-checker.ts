// The set workload's checker (Jepsen's set checker, with a final read per master): every
// acknowledged add is in the final read (lost = 0); nothing is there that no one tried to add
// (unexpected = 0); nothing whose add answered a definite failure is there; no element is
// there twice; and every master's final read of a bucket agrees. Indeterminate adds found in
// the final read are "recovered": they did happen, which is allowed.
//
// Encoding in history.jsonl (workloads/set.ts writes it):
//   add         key = bucket   invoke {element}   ok {version, attempts}
//   final-read  key = bucket   invoke null        ok {elements: string[], version}
import type { Operation } from '../history/operations.ts';
import { type Anomaly, summarizeOperation, type Validity } from './anomaly.ts';

export interface SetCheck {
  readonly valid: Validity;
  readonly attempted: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly indeterminate: number;
  readonly finalSize: number;
  readonly lost: readonly string[];
  readonly unexpected: readonly string[];
  readonly recovered: readonly string[];
  readonly failedPresent: readonly string[];
  readonly duplicates: readonly string[];
  readonly bucketsRead: number;
  readonly bucketsUnread: readonly string[];
  readonly anomalies: readonly Anomaly[];
}

const maxListedElements = 50;

export function addedElement(operation: Operation): string {
  const element = (operation.input as { element?: unknown } | null)?.element;
  if (typeof element !== 'string') throw new Error(`set history: add ${operation.id} has no element`);
  return element;
}

export function finalElements(operation: Operation): string[] {
  const elements = (operation.output as { elements?: unknown } | null)?.elements;
  if (!Array.isArray(elements) || !elements.every((element) => typeof element === 'string')) {
    throw new Error(`set history: final-read ${operation.id} has no element list`);
  }
  return elements as string[];
}

export function checkSet(operations: readonly Operation[]): SetCheck {
  const adds = operations.filter((operation) => operation.f === 'add');
  const addsByElement = new Map(adds.map((operation) => [addedElement(operation), operation]));
  const buckets = new Set(adds.map((operation) => operation.key ?? ''));
  const finals = readFinalBuckets(operations, buckets);
  const anomalies: Anomaly[] = [...finals.anomalies];
  const present = finals.elements;
  // An add whose bucket no master could read at the end is neither lost nor found: unknown.
  const unread = new Set(finals.unread);
  const judged = adds.filter((operation) => !unread.has(operation.key ?? ''));
  const byType = (type: string) => judged.filter((operation) => operation.type === type);
  const countOf = (type: string) => adds.filter((operation) => operation.type === type).length;
  const missingFrom = (list: Operation[]) => list.map(addedElement).filter((element) => !present.has(element));
  const foundOf = (list: Operation[]) => list.map(addedElement).filter((element) => present.has(element));
  const lost = missingFrom(byType('ok'));
  const failedPresent = foundOf(byType('fail'));
  const unexpected = [...present].filter((element) => !addsByElement.has(element));
  if (lost.length > 0)
    anomalies.push(elementAnomaly('lost', 'acknowledged adds missing from the final read', lost, addsByElement));
  if (unexpected.length > 0)
    anomalies.push({
      type: 'unexpected',
      message: `${unexpected.length} element(s) in the final read that no one tried to add`,
      details: { elements: unexpected.slice(0, maxListedElements) },
    });
  if (failedPresent.length > 0)
    anomalies.push(
      elementAnomaly(
        'failed-add-present',
        'adds that answered a definite failure yet are in the final read',
        failedPresent,
        addsByElement,
      ),
    );
  const valid: Validity = anomalies.length > 0 ? false : finals.unread.length > 0 ? 'unknown' : true;
  return {
    valid,
    attempted: adds.length,
    acknowledged: countOf('ok'),
    failed: countOf('fail'),
    indeterminate: countOf('info'),
    finalSize: present.size,
    lost,
    unexpected,
    recovered: foundOf(byType('info')),
    failedPresent,
    duplicates: finals.duplicates,
    bucketsRead: buckets.size - finals.unread.length,
    bucketsUnread: finals.unread,
    anomalies,
  };
}

interface FinalBuckets {
  readonly elements: Set<string>;
  readonly unread: string[];
  readonly duplicates: string[];
  readonly anomalies: Anomaly[];
}

/** The union of the final reads; every master's read of a bucket must be the same list. */
function readFinalBuckets(operations: readonly Operation[], buckets: ReadonlySet<string>): FinalBuckets {
  const result: FinalBuckets = { elements: new Set(), unread: [], duplicates: [], anomalies: [] };
  for (const bucket of [...buckets].sort()) {
    const reads = operations.filter(
      (operation) => operation.f === 'final-read' && operation.key === bucket && operation.type === 'ok',
    );
    if (reads.length === 0) {
      result.unread.push(bucket);
      continue;
    }
    const first = finalElements(reads[0]!);
    const seen = new Set<string>();
    for (const element of first) {
      if (seen.has(element)) result.duplicates.push(element);
      seen.add(element);
      result.elements.add(element);
    }
    const disagreeing = reads.filter((read) => finalElements(read).join(',') !== first.join(','));
    if (disagreeing.length > 0) {
      result.anomalies.push({
        type: 'divergent-final-reads',
        key: bucket,
        message: `masters disagree on the final content of ${bucket}`,
        operations: [reads[0]!, ...disagreeing].map(summarizeOperation),
      });
      for (const read of disagreeing) for (const element of finalElements(read)) result.elements.add(element);
    }
  }
  if (result.duplicates.length > 0) {
    result.anomalies.push({
      type: 'duplicate-element',
      message: `${result.duplicates.length} element(s) appear twice in the final read`,
      details: { elements: result.duplicates.slice(0, maxListedElements) },
    });
  }
  return result;
}

function elementAnomaly(
  type: string,
  what: string,
  elements: readonly string[],
  addsByElement: ReadonlyMap<string, Operation>,
): Anomaly {
  return {
    type,
    message: `${elements.length} ${what}`,
    operations: elements.slice(0, maxListedElements).map((element) => summarizeOperation(addsByElement.get(element)!)),
    details: { elements: elements.slice(0, maxListedElements * 4) },
  };
}
