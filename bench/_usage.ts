// A benchmark's usage, for `npm run bench -- <name> --help`: the comment block a bench file opens
// with says what it measures and with which options, so it is the help text (one place to keep
// true), printed without the comment markers.
import { readFileSync } from 'node:fs';

/** The leading `//` comment lines of a TypeScript file, without their markers. */
export function leadingComment(source: string): string {
  const lines: string[] = [];
  for (const line of source.split('\n')) {
    if (!line.startsWith('//')) break;
    lines.push(line.replace(/^\/\/ ?/, ''));
  }
  return lines.join('\n').trim();
}

export function usageOf(file: string, name: string): string {
  const text = leadingComment(readFileSync(file, 'utf8'));
  const body = text === '' ? '(this benchmark documents no options)' : text;
  return `npm run bench -- ${name} [options]\n\n${body}\n`;
}
