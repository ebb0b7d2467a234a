// The script format of the interaction tests (after etcd-raft's datadriven files):
//
//   # comments, and blank lines between blocks
//   command arg key=value
//   ----
//   expected output, one or more lines, up to the next blank line
//
// A block without `----` has no expectation yet; rewriting fills it in. Output never contains a
// blank line (the interpreter prints `ok` for nothing), so a blank line always ends a block.

export interface Block {
  readonly command: string;
  /** 1-based line of the command, for messages. */
  readonly lineNumber: number;
  readonly hasSeparator: boolean;
  /** The expected output occupies lines [expectedStart, expectedEnd) of the file (0-based). */
  readonly expectedStart: number;
  readonly expectedEnd: number;
  readonly expected: readonly string[];
}

export interface Script {
  readonly lines: readonly string[];
  readonly blocks: readonly Block[];
}

export const separator = '----';

const isBlank = (line: string): boolean => line.trim() === '';
const isComment = (line: string): boolean => line.trimStart().startsWith('#');

export function parseScript(text: string): Script {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let position = 0;
  while (position < lines.length) {
    const line = lines[position]!;
    if (isBlank(line) || isComment(line)) {
      position++;
      continue;
    }
    const hasSeparator = position + 1 < lines.length && lines[position + 1]!.trim() === separator;
    const expectedStart = hasSeparator ? position + 2 : position + 1;
    let expectedEnd = expectedStart;
    if (hasSeparator) while (expectedEnd < lines.length && !isBlank(lines[expectedEnd]!)) expectedEnd++;
    blocks.push({
      command: line.trim(),
      lineNumber: position + 1,
      hasSeparator,
      expectedStart,
      expectedEnd,
      expected: lines.slice(expectedStart, expectedEnd),
    });
    position = expectedEnd;
  }
  return { lines, blocks };
}

/** The script with each block's expected output replaced by `actual` (same order as blocks). */
export function rewriteScript(script: Script, actual: readonly (readonly string[])[]): string {
  const lines = [...script.lines];
  for (let blockIndex = script.blocks.length - 1; blockIndex >= 0; blockIndex--) {
    const block = script.blocks[blockIndex]!;
    const output = actual[blockIndex]!;
    if (block.hasSeparator) {
      lines.splice(block.expectedStart, block.expectedEnd - block.expectedStart, ...output);
      continue;
    }
    const next = lines[block.expectedStart];
    const needsBlank = next !== undefined && !isBlank(next);
    lines.splice(block.expectedStart, 0, separator, ...output, ...(needsBlank ? [''] : []));
  }
  return lines.join('\n');
}
