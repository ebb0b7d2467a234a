// Marathon's label selector (apps.raml, GET /v2/apps?label=): comma-separated selectors, all of
// which must hold: `key` (exists), `key==value`, `key!=value`, `key in (a, b)`, `key notin (a, b)`.
// A backslash escapes the next character (so `\,` is a comma inside a value).

export type LabelSelector =
  | { readonly kind: 'exists'; readonly key: string }
  | { readonly kind: 'equals' | 'differs'; readonly key: string; readonly value: string }
  | { readonly kind: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] };

/** Splits on commas outside parentheses and not escaped. */
function splitSelectors(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let depth = 0;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (char === '\\' && index + 1 < text.length) {
      current += text[index + 1];
      index += 1;
      continue;
    }
    if (char === '(') depth += 1;
    if (char === ')') depth = Math.max(0, depth - 1);
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

export function parseLabelSelectors(text: string): LabelSelector[] | { error: string } {
  const selectors: LabelSelector[] = [];
  for (const part of splitSelectors(text)) {
    const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
    if (set !== null) {
      const values = set[3]!.split(',').map((value) => value.trim());
      selectors.push({ kind: set[2] === 'in' ? 'in' : 'notin', key: set[1]!, values });
      continue;
    }
    const comparison = /^([^!=\s]+)\s*(==|!=)\s*(.*)$/.exec(part);
    if (comparison !== null) {
      const kind = comparison[2] === '==' ? 'equals' : 'differs';
      selectors.push({ kind, key: comparison[1]!, value: comparison[3]!.trim() });
      continue;
    }
    if (!/^[-A-Za-z0-9_.]+$/.test(part)) return { error: `Invalid label selector: ${part}` };
    selectors.push({ kind: 'exists', key: part });
  }
  return selectors;
}

export function matchesLabels(labels: Readonly<Record<string, string>>, selectors: readonly LabelSelector[]): boolean {
  return selectors.every((selector) => matchesOne(labels, selector));
}

function matchesOne(labels: Readonly<Record<string, string>>, selector: LabelSelector): boolean {
  const value = labels[selector.key];
  if (value === undefined) return false;
  switch (selector.kind) {
    case 'exists':
      return true;
    case 'equals':
      return value === selector.value;
    case 'differs':
      return value !== selector.value;
    case 'in':
      return selector.values.includes(value);
    case 'notin':
      return !selector.values.includes(value);
  }
}
