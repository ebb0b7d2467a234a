// A daemon's configuration as one table of options (STYLE.md rule 7: every config field is
// documented and validated at start with a plain-English error). From the table come the
// command-line options and --help (src/cli/options.ts), the validated, typed values the daemon
// takes (`parseOptions` from flag text, `optionValues` from values given in code, both checked
// alike), and the GET_FLAGS record (`flagsRecord`, Mesos style: snake_case names, string values).
// Nothing else may spell an option out again.

/** A bad option value: the message names the flag, in plain English. */
export class OptionError extends Error {
  override name = 'OptionError';
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(message);
  }
}

export interface OptionSpec<Value> {
  /** The flag without dashes, kebab-case: "agent-ping-interval-ms". */
  readonly flag: string;
  /**
   * Other spellings accepted on the command line for the same option, e.g. Mesos' underscores
   * ("max_completed_frameworks" beside "max-completed-frameworks"). Not shown by --help.
   */
  readonly aliases: readonly string[];
  readonly description: string;
  /** The value's placeholder in --help ("<ms>"); null for a switch, which takes none. */
  readonly placeholder: string | null;
  readonly required: boolean;
  /** The text an absent option takes (what --help shows as its default); null: none. */
  readonly defaultText: string | null;
  /** The value of an absent option without a default (null for optional ones, false for a switch). */
  readonly absent: Value;
  /** The flag's text → its value, checked; throws OptionError naming the flag. A switch gets "true". */
  parse(text: string): Value;
  /** Checks a value given in code the way `parse` checks text; throws OptionError naming the flag. */
  check(value: Value): void;
  /** The value as GET_FLAGS shows it. */
  show(value: Value): string;
  /** Left out of --help (a flag for tests only); still parsed, checked and in GET_FLAGS. */
  readonly hidden?: boolean;
}

export type OptionSchema = Readonly<Record<string, OptionSpec<unknown>>>;

/** The typed values of a schema: one property per option, of the type its `parse` returns. */
export type OptionValues<Schema extends OptionSchema> = {
  readonly [Key in keyof Schema]: Schema[Key] extends OptionSpec<infer Value> ? Value : never;
};

const flagPattern = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;

/** Checks a schema once, at module load: flags well-formed, and no spelling used twice. */
export function checkSchema(schema: OptionSchema): void {
  const seen = new Set<string>();
  for (const [key, spec] of Object.entries(schema)) {
    for (const spelling of [spec.flag, ...spec.aliases]) {
      if (!flagPattern.test(spelling)) throw new Error(`option ${key}: "--${spelling}" is not a flag name`);
      if (seen.has(spelling)) throw new Error(`option ${key}: "--${spelling}" is spelled twice in the schema`);
      seen.add(spelling);
    }
    if (spec.required && spec.defaultText !== null) throw new Error(`option ${key}: required with a default`);
    if (spec.placeholder === null && spec.required) throw new Error(`option ${key}: a switch cannot be required`);
  }
}

/**
 * Values from flag text (`given[key]`: the text of a flag given on the command line, true for a
 * switch, undefined when absent). Absent options take their default text, then `absent`.
 */
export function parseOptions<Schema extends OptionSchema>(
  schema: Schema,
  given: Readonly<Record<string, string | boolean | undefined>>,
): OptionValues<Schema> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const text = given[key];
    if (text === undefined) {
      if (spec.required) throw new OptionError(spec.flag, `--${spec.flag} is required`);
      values[key] = spec.defaultText === null ? spec.absent : spec.parse(spec.defaultText);
    } else {
      values[key] = spec.parse(typeof text === 'boolean' ? String(text) : text);
    }
  }
  return values as OptionValues<Schema>;
}

/** Values given in code (tests, scripts): each checked as its flag's text would be; the rest defaulted. */
export function optionValues<Schema extends OptionSchema>(
  schema: Schema,
  given: Partial<OptionValues<Schema>>,
): OptionValues<Schema> {
  const values: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = (given as Record<string, unknown>)[key];
    if (value === undefined) {
      if (spec.required) throw new OptionError(spec.flag, `--${spec.flag} is required`);
      values[key] = spec.defaultText === null ? spec.absent : spec.parse(spec.defaultText);
    } else {
      spec.check(value);
      values[key] = value;
    }
  }
  return values as OptionValues<Schema>;
}

/** GET_FLAGS: every option by its snake_case name, its value as text ("" when unset). */
export function flagsRecord<Schema extends OptionSchema>(
  schema: Schema,
  values: OptionValues<Schema>,
): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [key, spec] of Object.entries(schema)) {
    record[spec.flag.replaceAll('-', '_')] = spec.show((values as Record<string, unknown>)[key]);
  }
  return record;
}
