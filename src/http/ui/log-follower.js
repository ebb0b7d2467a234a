// Follows one sandbox file of a task (stdout or stderr) through the masters' sandbox read
// (GET /api/v1/sandbox/read, src/http/routes/sandbox.ts), as `tail -f` does: read from the last
// offset, hand the new text on, wait, read again. A file larger than `initialTailBytes` is shown
// from its last part. A read that filled its whole length is followed at once (catching up);
// a file not there yet (a task still staging) is waited for; a file that shrank (truncated) is
// read again from the start. Once the task is terminal, one read that finds nothing new ends it.
// Bytes are decoded as UTF-8 in stream mode, so a character split across reads stays whole.
import { CallFailed } from './api.js';

export const chunkBytes = 64 * 1024;
export const initialTailBytes = 256 * 1024;
export const pollIntervalMs = 1000;
const maxRetryMs = 5000;

function describe(error) {
  return error instanceof Error ? error.message : String(error);
}

export class LogFollower {
  /** "starting" | "waiting for the file" | "following" | "ended" | "error: …" */
  status = 'starting';
  offset = 0;
  #stopped = false;
  #timer = null;
  #decoder = new TextDecoder('utf-8');
  #failures = 0;

  /**
   * `client()`: the MasterClient to ask now (the connection's master: it changes on failover).
   * `onText(text)`, `onNote(text)`: new output, and remarks about it (skipped, truncated).
   * `taskEnded()`: true once the task is terminal. `onStatus(status)`.
   */
  constructor({ client, frameworkId, taskId, path, onText, onNote, onStatus, taskEnded }) {
    Object.assign(this, { client, frameworkId, taskId, path, onText, onNote, onStatus, taskEnded });
  }

  start() {
    void this.#step(true);
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #later(ms, first) {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#step(first), ms);
  }

  #setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.onStatus?.(status);
  }

  #read(offset, length) {
    return this.client().readSandbox({
      frameworkId: this.frameworkId,
      taskId: this.taskId,
      path: this.path,
      offset,
      length,
    });
  }

  async #step(first) {
    if (this.#stopped) return;
    const endedBefore = this.taskEnded();
    let read;
    try {
      if (first) await this.#skipToTail();
      read = await this.#read(this.offset, chunkBytes);
    } catch (error) {
      this.#failed(error, first);
      return;
    }
    if (this.#stopped) return;
    this.#failures = 0;
    if (read.size < this.offset) {
      this.onNote?.(`the file shrank to ${read.size} bytes (truncated); reading it again from the start`);
      this.offset = 0;
      this.#decoder = new TextDecoder('utf-8');
      this.#later(0, false);
      return;
    }
    this.offset += read.bytes.length;
    const text = this.#decoder.decode(read.bytes, { stream: true });
    if (text !== '') this.onText(text);
    if (read.bytes.length === chunkBytes) {
      this.#later(0, false);
      return;
    }
    if (endedBefore) {
      this.#setStatus('ended');
      return;
    }
    this.#setStatus('following');
    this.#later(pollIntervalMs, false);
  }

  async #skipToTail() {
    const probe = await this.#read(0, 0);
    if (probe.size > initialTailBytes) {
      this.offset = probe.size - initialTailBytes;
      this.onNote?.(`showing the last ${initialTailBytes / 1024} KiB of ${probe.size} bytes`);
    }
  }

  #failed(error, first) {
    if (error instanceof CallFailed && error.code === 'SANDBOX_FILE_NOT_FOUND') {
      this.#setStatus(this.taskEnded() ? 'ended' : 'waiting for the file');
      if (!this.taskEnded()) this.#later(pollIntervalMs, first);
      return;
    }
    this.#failures += 1;
    this.#setStatus(`error: ${describe(error)}`);
    this.#later(Math.min(maxRetryMs, pollIntervalMs * 2 ** (this.#failures - 1)), first);
  }
}
