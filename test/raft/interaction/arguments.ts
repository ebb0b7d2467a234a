// Arguments of a script command: positional words, and `key=value` options.
export interface Arguments {
  readonly positional: readonly string[];
  readonly options: ReadonlyMap<string, string>;
}

export function parseArguments(tokens: readonly string[]): Arguments {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (const token of tokens) {
    const equals = token.indexOf('=');
    if (equals > 0) options.set(token.slice(0, equals), token.slice(equals + 1));
    else positional.push(token);
  }
  return { positional, options };
}

export function required(args: Arguments, position: number, what: string): string {
  const value = args.positional[position];
  if (value === undefined) throw new Error(`missing ${what}`);
  return value;
}

/** A repeat count at `position`, 1 when absent. */
export function count(args: Arguments, position: number): number {
  const text = args.positional[position] ?? '1';
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`not a count: ${text}`);
  return value;
}

export const noArguments: Arguments = { positional: [], options: new Map() };
