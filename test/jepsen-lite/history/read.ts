// Reads a history.jsonl back (for `check.ts` and the regression fixtures), checking each line
// is an event: a fixture that rots must fail loudly, not check an empty history as valid.
import { readFileSync } from 'node:fs';
import type { EventType, HistoryEvent, OperationName } from './events.ts';

const eventTypes: readonly EventType[] = ['invoke', 'ok', 'fail', 'info'];
const operationNames: readonly OperationName[] = ['read', 'write', 'cas', 'add', 'final-read', 'launch'];

export function readHistoryFile(file: string): HistoryEvent[] {
  return parseHistory(readFileSync(file, 'utf8'), file);
}

export function parseHistory(text: string, source = 'history'): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split('\n');
  for (let lineNumber = 0; lineNumber < lines.length; lineNumber++) {
    const line = lines[lineNumber]!.trim();
    if (line === '') continue;
    events.push(parseEvent(line, `${source}:${lineNumber + 1}`));
  }
  return events;
}

function parseEvent(line: string, where: string): HistoryEvent {
  const raw = JSON.parse(line) as Record<string, unknown>;
  const fail = (why: string): never => {
    throw new Error(`${where}: ${why}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  if (!eventTypes.includes(raw.type as EventType)) fail(`type must be one of ${eventTypes.join(', ')}`);
  if (!operationNames.includes(raw.f as OperationName)) fail(`f must be one of ${operationNames.join(', ')}`);
  for (const field of ['index', 'process', 'client', 'timeNs']) {
    if (typeof raw[field] !== 'number' || !Number.isFinite(raw[field])) fail(`${field} must be a number`);
  }
  if (raw.key !== undefined && typeof raw.key !== 'string') fail('key must be a string');
  return raw as unknown as HistoryEvent;
}
