// What a fault script left in place (a paused pid, an isolated master), so that `resume` and
// `heal` can undo it from another shell.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const folder = path.join(os.tmpdir(), 'flotilla-faults');

export interface FaultState {
  readonly fault: 'pause' | 'partition';
  readonly pid: number;
  readonly address: string;
  readonly id: string;
  readonly at: string;
}

export function saveState(state: FaultState): string {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${state.fault}.json`);
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
  return file;
}

export function loadState(fault: FaultState['fault']): FaultState | null {
  try {
    return JSON.parse(readFileSync(path.join(folder, `${fault}.json`), 'utf8')) as FaultState;
  } catch {
    return null;
  }
}

export function clearState(fault: FaultState['fault']): void {
  rmSync(path.join(folder, `${fault}.json`), { force: true });
}
