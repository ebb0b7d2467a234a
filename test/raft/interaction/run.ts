// Runs one script file: every block's command against one Scenario, its output compared with
// the expected section. With `rewrite`, the expected sections are replaced by what happened.
import { readFileSync, writeFileSync } from 'node:fs';
import { AssertionError } from '../../../src/util/assert.ts';
import { runCommand } from './commands.ts';
import { unifiedDiff } from './diff.ts';
import { Scenario } from './scenario.ts';
import { parseScript, rewriteScript } from './script.ts';

const invariantErrorName = new AssertionError('').name;

export interface ScriptResult {
  /** One message per block whose output differed or broke a core invariant, naming the file and line. */
  readonly mismatches: readonly string[];
  readonly rewritten: boolean;
}

export function runScriptFile(path: string, options: { rewrite: boolean }): ScriptResult {
  const text = readFileSync(path, 'utf8');
  const script = parseScript(text);
  const scenario = new Scenario();
  const outputs: string[][] = [];
  const mismatches: string[] = [];
  const invariantFailures: string[] = [];
  for (const block of script.blocks) {
    const actual = runCommand(scenario, block.command);
    outputs.push(actual);
    if (actual.some((line) => line.includes(invariantErrorName))) {
      // A broken invariant is a bug in the core (STYLE.md rule 5): never an expectation.
      invariantFailures.push(
        `${path}:${block.lineNumber}: \`${block.command}\` broke an invariant of the core:\n${actual.join('\n')}`,
      );
    }
    if (!block.hasSeparator) {
      mismatches.push(`${path}:${block.lineNumber}: \`${block.command}\` has no expected output (no ---- line)`);
    } else if (actual.join('\n') !== block.expected.join('\n')) {
      const diff = unifiedDiff(block.expected, actual);
      mismatches.push(
        [
          `${path}:${block.lineNumber}: output of \`${block.command}\` differs`,
          '--- expected',
          '+++ actual',
          ...diff,
        ].join('\n'),
      );
    }
  }
  if (options.rewrite) {
    const rewritten = rewriteScript(script, outputs);
    if (rewritten !== text) writeFileSync(path, rewritten);
    return { mismatches: invariantFailures, rewritten: rewritten !== text };
  }
  return { mismatches: [...invariantFailures, ...mismatches], rewritten: false };
}
