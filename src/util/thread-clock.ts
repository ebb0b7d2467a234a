// The event-loop thread's own time as the kernel counts it (Linux /proc/self/task/<pid>/schedstat):
// nanoseconds run on a core and nanoseconds spent runnable but waiting for one. A sliced job's
// gaps are either the loop's other work (this thread running) or the machine's load (this thread
// waiting for a core); wall time alone cannot tell them apart. Null where the file is missing.
import { readFileSync } from 'node:fs';

export interface ThreadTimes {
  readonly runNs: number;
  readonly waitNs: number;
}

// The main thread's task id is the process id.
const schedstatPath = `/proc/self/task/${process.pid}/schedstat`;
let readable = true;

export function mainThreadTimes(): ThreadTimes | null {
  if (!readable) return null;
  try {
    const [run, wait] = readFileSync(schedstatPath, 'latin1').split(' ');
    return { runNs: Number(run), waitNs: Number(wait) };
  } catch {
    readable = false;
    return null;
  }
}
