// The allocator's public face: `allocate(input)` (a pure function of state, hints and time to
// offers and skip reasons) and its configuration, with Mesos' defaults.
import { toMillis, type Quantities } from './quantities.ts';

export { allocate, AllocationCycle } from './allocation-cycle.ts';
export type { AllocationHintsView, AllocationInput, AllocationResult, AllocatorConfig } from './allocation-cycle.ts';

/** Mesos' default `--min_allocatable_resources`. */
export const defaultMinAllocatable = 'cpus:0.01|mem:32';

const quantityPattern = /^([A-Za-z][A-Za-z0-9_.-]{0,63}):(\d+(?:\.\d+)?)$/;

/**
 * Parses Mesos' syntax: alternatives separated by "|", each a ";"-separated list of
 * `name:amount` ("cpus:0.01|mem:32", "cpus:1;mem:128|gpus:1"). Throws with a plain message.
 */
export function parseMinAllocatable(text: string): Quantities[] {
  if (text.trim() === '') return [];
  return text.split('|').map((alternative) => {
    const quantities: Quantities = new Map();
    for (const part of alternative.split(';')) {
      const match = quantityPattern.exec(part.trim());
      if (match === null)
        throw new Error(`min allocatable resources: "${part}" is not name:amount (e.g. "cpus:0.01|mem:32")`);
      quantities.set(match[1]!, toMillis(Number(match[2])));
    }
    return quantities;
  });
}
