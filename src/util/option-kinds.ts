// The kinds of option a daemon's schema is made of (options.ts): whole numbers with bounds, text,
// a choice among names, a switch, host:port, and any other parse/check/show. Every error names
// the flag and says what was expected and what came.
import { OptionError, type OptionSpec } from './options.ts';

interface Described {
  /** The flag without dashes, kebab-case. */
  readonly flag: string;
  readonly description: string;
  /** Other spellings accepted for the same option (e.g. with underscores). */
  readonly aliases?: readonly string[];
}

interface WithPlaceholder extends Described {
  /** The value's placeholder in --help, e.g. "<ms>". */
  readonly placeholder: string;
}

/** Digits beyond these make no sense for any option (1e15 ms is 30,000 years). */
const maxDigits = 15;

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** "host:port" with a port from 1 to 65535, or null. */
export function parseHostPort(text: string): HostPort | null {
  const match = /^([A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(text);
  if (match === null) return null;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? { host: match[1]!, port } : null;
}

export const showHostPort = (address: HostPort): string => `${address.host}:${address.port}`;

function bounds(minimum: number, maximum: number | null): string {
  return maximum === null ? `at least ${minimum}` : `from ${minimum} to ${maximum}`;
}

function checkWhole(flag: string, value: number, minimum: number, maximum: number | null, got: string): void {
  if (!Number.isSafeInteger(value) || value < minimum || (maximum !== null && value > maximum))
    throw new OptionError(flag, `--${flag} must be a whole number ${bounds(minimum, maximum)}, got ${got}`);
}

function parseWhole(flag: string, text: string, minimum: number, maximum: number | null): number {
  if (!new RegExp(`^\\d{1,${maxDigits}}$`).test(text))
    throw new OptionError(flag, `--${flag} must be a whole number ${bounds(minimum, maximum)}, got "${text}"`);
  const value = Number(text);
  checkWhole(flag, value, minimum, maximum, `"${text}"`);
  return value;
}

export function wholeOption(
  spec: WithPlaceholder & { readonly default: number; readonly minimum: number; readonly maximum?: number },
): OptionSpec<number> {
  const maximum = spec.maximum ?? null;
  checkWhole(spec.flag, spec.default, spec.minimum, maximum, String(spec.default));
  return {
    flag: spec.flag,
    aliases: spec.aliases ?? [],
    description: spec.description,
    placeholder: spec.placeholder,
    required: false,
    defaultText: String(spec.default),
    absent: spec.default,
    parse: (text) => parseWhole(spec.flag, text, spec.minimum, maximum),
    check: (value) => checkWhole(spec.flag, value, spec.minimum, maximum, String(value)),
    show: String,
  };
}

/** A whole number that may be left out (null): its meaning then comes from another option. */
export function optionalWholeOption(
  spec: WithPlaceholder & { readonly minimum: number; readonly maximum?: number },
): OptionSpec<number | null> {
  const maximum = spec.maximum ?? null;
  return {
    flag: spec.flag,
    aliases: spec.aliases ?? [],
    description: spec.description,
    placeholder: spec.placeholder,
    required: false,
    defaultText: null,
    absent: null,
    parse: (text) => parseWhole(spec.flag, text, spec.minimum, maximum),
    check: (value) => {
      if (value !== null) checkWhole(spec.flag, value, spec.minimum, maximum, String(value));
    },
    show: (value) => (value === null ? '' : String(value)),
  };
}

/** Text; `validate` throws a message (without the flag) for text it refuses. */
export function textOption(
  spec: WithPlaceholder & {
    readonly required?: boolean;
    readonly default?: string;
    readonly validate?: (text: string) => void;
  },
): OptionSpec<string> {
  const check = (text: string): void => {
    if (typeof text !== 'string' || text === '') throw new OptionError(spec.flag, `--${spec.flag} must not be empty`);
    try {
      spec.validate?.(text);
    } catch (error) {
      throw new OptionError(spec.flag, `--${spec.flag}: ${(error as Error).message}`);
    }
  };
  return {
    flag: spec.flag,
    aliases: spec.aliases ?? [],
    description: spec.description,
    placeholder: spec.placeholder,
    required: spec.required ?? false,
    defaultText: spec.default ?? null,
    absent: '',
    parse: (text) => {
      check(text);
      return text;
    },
    check,
    show: (value) => value,
  };
}

/** Text that may be left out (null; GET_FLAGS shows ""). */
export function optionalTextOption(spec: WithPlaceholder): OptionSpec<string | null> {
  const check = (text: string | null): void => {
    if (text !== null && (typeof text !== 'string' || text === ''))
      throw new OptionError(spec.flag, `--${spec.flag} must not be empty`);
  };
  return {
    flag: spec.flag,
    aliases: spec.aliases ?? [],
    description: spec.description,
    placeholder: spec.placeholder,
    required: false,
    defaultText: null,
    absent: null,
    parse: (text) => {
      check(text);
      return text;
    },
    check,
    show: (value) => value ?? '',
  };
}

export function choiceOption<Choice extends string>(
  spec: WithPlaceholder & { readonly choices: readonly Choice[]; readonly default: Choice },
): OptionSpec<Choice> {
  const check = (value: string): void => {
    if (!(spec.choices as readonly string[]).includes(value))
      throw new OptionError(spec.flag, `--${spec.flag} must be one of ${spec.choices.join(', ')}, got "${value}"`);
  };
  return {
    flag: spec.flag,
    aliases: spec.aliases ?? [],
    description: spec.description,
    placeholder: spec.placeholder,
    required: false,
    defaultText: spec.default,
    absent: spec.default,
    parse: (text) => {
      check(text);
      return text as Choice;
    },
    check,
    show: (value) => value,
  };
}

/** Present or not; takes no value. */
export function switchOption(spec: Described): OptionSpec<boolean> {
  return {
    flag: spec.flag,
    aliases: spec.aliases ?? [],
    description: spec.description,
    placeholder: null,
    required: false,
    defaultText: null,
    absent: false,
    parse: (text) => {
      if (text !== 'true' && text !== 'false')
        throw new OptionError(spec.flag, `--${spec.flag} takes no value, got "${text}"`);
      return text === 'true';
    },
    check: (value) => {
      if (typeof value !== 'boolean') throw new OptionError(spec.flag, `--${spec.flag} must be true or false`);
    },
    show: String,
  };
}

/**
 * On unless `--<flag>` (which begins with "no-") is given, as Mesos' --no-switch_user: the
 * option's value is whether the thing is on, its text whether the flag was given ("true").
 */
export function negatedSwitchOption(spec: Described): OptionSpec<boolean> {
  if (!spec.flag.startsWith('no-')) throw new Error(`a negated switch's flag begins with no-, not ${spec.flag}`);
  const given = switchOption(spec);
  return { ...given, absent: true, parse: (text) => !given.parse(text), show: (value) => String(!value) };
}

/** host:port, a port from 1 to 65535. */
export function addressOption(
  spec: WithPlaceholder & { readonly required?: boolean; readonly default?: string },
): OptionSpec<HostPort> {
  const fail = (got: string): never => {
    throw new OptionError(spec.flag, `--${spec.flag} must be host:port, got "${got}"`);
  };
  return {
    flag: spec.flag,
    aliases: spec.aliases ?? [],
    description: spec.description,
    placeholder: spec.placeholder,
    required: spec.required ?? false,
    defaultText: spec.default ?? null,
    absent: { host: '', port: 0 },
    parse: (text) => parseHostPort(text) ?? fail(text),
    check: (value) => {
      const text = showHostPort(value);
      if (parseHostPort(text) === null) fail(text);
    },
    show: showHostPort,
  };
}

/**
 * Any other value: `parse` turns text into it and `show` back, both total on valid values;
 * `parse` throws a message (without the flag) for text it refuses, and a value given in code is
 * checked by parsing what `show` makes of it.
 */
export function customOption<Value>(
  spec: WithPlaceholder & {
    readonly required?: boolean;
    readonly default?: string;
    readonly absent: Value;
    readonly parse: (text: string) => Value;
    readonly show: (value: Value) => string;
  },
): OptionSpec<Value> {
  const parse = (text: string): Value => {
    try {
      return spec.parse(text);
    } catch (error) {
      throw new OptionError(spec.flag, `--${spec.flag}: ${(error as Error).message}`);
    }
  };
  return {
    flag: spec.flag,
    aliases: spec.aliases ?? [],
    description: spec.description,
    placeholder: spec.placeholder,
    required: spec.required ?? false,
    defaultText: spec.default ?? null,
    absent: spec.absent,
    parse,
    check: (value) => {
      parse(spec.show(value));
    },
    show: spec.show,
  };
}

/** The same option, left out of --help: for tests only, and documented as such where it is used. */
export function hiddenOption<Value>(spec: OptionSpec<Value>): OptionSpec<Value> {
  return { ...spec, hidden: true };
}
