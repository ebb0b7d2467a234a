// `flotilla run --json`: the same run as JSON lines on stdout, one object per event, so a script
// can follow a task without parsing text. Events: `message` (what the text mode prints as a
// line: subscribed, launching, waiting, timed out…), `notice` (a master not answering, still
// trying), `status` (a task status update, Mesos' TaskStatus fields), `stdout`/`stderr` (output
// as UTF-8 text, whole characters only), and last `exit` (the exit status and the final state).
import { StringDecoder } from 'node:string_decoder';
import type { TaskStatus } from '../../protocol/mesos.ts';
import type { RunOutput } from './task-runner.ts';

export interface JsonRunOutput extends RunOutput {
  /** The last line: how the run ended. */
  readonly exit: (taskId: string, exitStatus: number) => void;
}

export function jsonRunOutput(write: (text: string) => void): JsonRunOutput {
  const emit = (record: Record<string, unknown>): void => write(`${JSON.stringify(record)}\n`);
  // Chunks read from the sandbox may cut a multi-byte character; the decoders keep the rest.
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  let lastState: string | null = null;
  const output = (stream: 'stdout' | 'stderr') => (data: Buffer) => {
    const text = decoders[stream].write(data);
    if (text !== '') emit({ event: stream, data: text });
  };
  return {
    line: (text) => emit({ event: 'message', message: text }),
    notice: (text) => emit({ event: 'notice', message: text }),
    status: (status: TaskStatus) => {
      lastState = status.state;
      emit({ event: 'status', ...status });
    },
    stdout: output('stdout'),
    stderr: output('stderr'),
    exit: (taskId, exitStatus) => {
      for (const stream of ['stdout', 'stderr'] as const) {
        const rest = decoders[stream].end();
        if (rest !== '') emit({ event: stream, data: rest });
      }
      emit({ event: 'exit', task_id: taskId, state: lastState, exit_status: exitStatus });
    },
  };
}
