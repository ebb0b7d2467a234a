// What a failed file printed about its failure, kept for the closing lines: CI logs are often
// read from their tail alone, so the reason must sit next to the closing count, not only
// scrolled far up among thousands of interleaved lines.
import { stripAnsi } from './test-summary.ts';

/** Lines kept from the first failure report on, and from the end when no failure was reported. */
const maxExcerptLines = 24;
const maxLineChars = 300;
// uvu reports a failed test as `FAIL  suite  "name"`, then the assertion and its stack.
const failureStartPattern = /^\s*FAIL\s/;
// Stack frames inside dependencies (uvu's assert and runner) say nothing about the failure.
const dependencyFramePattern = /^\s*at .*node_modules/;
// uvu's closing counts follow the failure reports; the runner's own table repeats them.
const summaryStartPattern = /^\s*Total:\s/;

export class FailureExcerpt {
  private readonly fromFailure: string[] = [];
  private readonly tail: string[] = [];
  private failureSeen = false;
  private summarySeen = false;

  feedLine(line: string): void {
    const plain = stripAnsi(line).trimEnd();
    if (plain === '' || dependencyFramePattern.test(plain)) return;
    const cut = plain.length > maxLineChars ? `${plain.slice(0, maxLineChars)}…` : plain;
    if (!this.failureSeen && failureStartPattern.test(cut)) this.failureSeen = true;
    if (this.failureSeen && summaryStartPattern.test(cut)) this.summarySeen = true;
    if (this.failureSeen && !this.summarySeen && this.fromFailure.length < maxExcerptLines) this.fromFailure.push(cut);
    this.tail.push(cut);
    if (this.tail.length > maxExcerptLines) this.tail.shift();
  }

  /** The failure report if uvu printed one, else the last lines (a crash, a timeout). */
  lines(): string[] {
    return this.failureSeen ? [...this.fromFailure] : [...this.tail];
  }
}
