// Logs are data (STYLE.md rule 13): one JSON line per event on stderr, each carrying the node
// and the component; callers add term and role with logger.child({ term, role }).
import pino, { type Bindings, type ChildLoggerOptions, type DestinationStream, type Logger } from 'pino';
import { type LineSink, TurnBufferedDestination } from './turn-buffered-destination.ts';

export type { Logger };

export interface LoggerFields {
  /** The node id: m1, m2, agent-1… */
  readonly node: string;
  /** The part of the node that logs: raft, http, allocator… */
  readonly component: string;
}

const levelVariable = 'FLOTILLA_LOG_LEVEL';
/** Where credentials could sit in a logged object: Authorization headers, the cluster secret header, secrets. */
export const redactedPaths = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'headers["x-flotilla-secret"]',
  'req.headers["x-flotilla-secret"]',
  'secret',
  '*.secret',
];
const defaultLevel = 'info';
const knownLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

let isoTimeMs = Number.NaN;
let isoTimeText = '';

/**
 * pino's isoTime, formatted once per millisecond: the leader writes an audit line per KV write, and
 * formatting the date for each was 0.9% of its busy time at 256 clients (issue 19). The same text.
 */
export function isoTimeField(): string {
  const nowMs = Date.now();
  if (nowMs !== isoTimeMs) {
    isoTimeMs = nowMs;
    isoTimeText = `,"time":"${new Date(nowMs).toISOString()}"`;
  }
  return isoTimeText;
}

/** The level from FLOTILLA_LOG_LEVEL, checked, so a typo fails at start rather than hiding logs. */
export function logLevelFromEnvironment(environment: NodeJS.ProcessEnv = process.env): string {
  const level = environment[levelVariable];
  if (level === undefined || level === '') return defaultLevel;
  if (!(knownLevels as readonly string[]).includes(level)) {
    throw new Error(`${levelVariable} must be one of ${knownLevels.join(', ')}; got "${level}"`);
  }
  return level;
}

/**
 * A logger for one component of one node. `destination` is for tests; by default lines go to
 * stderr synchronously, so the last lines before a crash on a broken invariant are not lost
 * in a buffer (log volume is low enough that the write cost does not matter).
 */
export function createLogger(fields: LoggerFields, destination?: DestinationStream): Logger {
  if (fields.node === '' || fields.component === '') {
    throw new Error(`createLogger: node and component must not be empty, got ${JSON.stringify(fields)}`);
  }
  return pino(
    {
      level: logLevelFromEnvironment(),
      base: { node: fields.node, component: fields.component, pid: process.pid },
      timestamp: isoTimeField,
      // "level":"info" reads better in a terminal and in jq than "level":30.
      formatters: { level: (label) => ({ level: label }) },
      // Defence in depth: no code logs credentials, but a request or headers object logged
      // whole one day must not carry them into a log file.
      redact: { paths: redactedPaths, censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 2, sync: true }),
  );
}

/**
 * A child of `logger` whose lines go to the parent's destination in one write per event-loop turn
 * (turn-buffered-destination.ts), for a line written on every request. pino children share their
 * parent's stream through `symbols.streamSym`; this child gets its own, over the parent's.
 */
export function turnBufferedChild(
  logger: Logger,
  bindings: Bindings,
  options?: ChildLoggerOptions,
): { readonly logger: Logger; readonly destination: TurnBufferedDestination } {
  const child = logger.child(bindings, options);
  const parentStream = (logger as unknown as Record<symbol, LineSink>)[pino.symbols.streamSym]!;
  const destination = new TurnBufferedDestination(parentStream);
  (child as unknown as Record<symbol, LineSink>)[pino.symbols.streamSym] = destination;
  return { logger: child, destination };
}

/** Logs nothing: for tests, and for code that takes a logger it has no use for. */
export const silentLogger: Logger = pino({ level: 'silent' });
