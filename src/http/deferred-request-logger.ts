// A request's logger (`request.log`, `reply.log`) made when first written to, not for every request.
// fastify gives each request a pino child bound to its request id; making one serialises the
// bindings and rebuilds the child's level methods, 1.6% of the leader's busy time at 256 clients
// (issue 19), for a logger that a successful fast request never writes to (request-log.ts logs
// errors and slow answers only). The first line written makes the very child fastify would have
// made, with the same bindings and options, so every line reads as before.
import type { FastifyBaseLogger, LogLevel } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type Write = (...args: unknown[]) => void;

export class DeferredRequestLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | null = null;
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** fastify's `childLoggerFactory` option. */
  static factory(
    this: void,
    parent: FastifyBaseLogger,
    bindings: Bindings,
    options: ChildLoggerOptions,
  ): FastifyBaseLogger {
    return new DeferredRequestLogger(parent, bindings, options);
  }

  /** The child fastify would have made; made once, on first use. */
  get made(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  get level(): LogLevel {
    if (this.#child !== null) return this.#child.level as LogLevel;
    return (this.#options.level ?? this.#parent.level) as LogLevel;
  }

  set level(level: LogLevel) {
    this.made.level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.made.child(bindings, options);
  }

  fatal(...args: unknown[]): void {
    const made = this.made;
    Reflect.apply(made.fatal as Write, made, args);
  }

  error(...args: unknown[]): void {
    const made = this.made;
    Reflect.apply(made.error as Write, made, args);
  }

  warn(...args: unknown[]): void {
    const made = this.made;
    Reflect.apply(made.warn as Write, made, args);
  }

  info(...args: unknown[]): void {
    const made = this.made;
    Reflect.apply(made.info as Write, made, args);
  }

  debug(...args: unknown[]): void {
    const made = this.made;
    Reflect.apply(made.debug as Write, made, args);
  }

  trace(...args: unknown[]): void {
    const made = this.made;
    Reflect.apply(made.trace as Write, made, args);
  }

  silent(...args: unknown[]): void {
    const made = this.made;
    Reflect.apply(made.silent as Write, made, args);
  }
}
