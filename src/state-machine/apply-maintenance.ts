// Maintenance (Mesos "maintenance.md"): a schedule of windows, each a set of machines and a time
// of unavailability. Scheduled machines are DRAINING (the allocator sends inverse offers);
// START_MAINTENANCE takes draining machines DOWN (their agents' offers are removed and no new
// ones are made); STOP_MAINTENANCE brings down machines back UP and out of the schedule.
import type { StartMaintenance, StopMaintenance, UpdateMaintenanceSchedule } from './commands.ts';
import { reject, success, type ApplyResult, type Rejection } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import type { LogIndex } from './ids.ts';
import { agentOnMachine } from './machines.ts';
import { removeOffersOnAgent } from './offer-book.ts';
import { compareStrings, sortedValues } from './ordering.ts';
import { machineKey, type MachineKey, type State } from './state.ts';
import type { MachineId } from './values.ts';

const describe = (machine: MachineId): string => `machine ${machine.hostname || '-'}/${machine.ip || '-'}`;

function checkSchedule(state: State, command: UpdateMaintenanceSchedule): Rejection | null {
  const scheduled = new Set<MachineKey>();
  for (const window of command.windows) {
    for (const machine of window.machines) {
      if (machine.hostname === '' && machine.ip === '')
        return reject('INVALID_MAINTENANCE_SCHEDULE', 'a machine needs a hostname or an ip');
      const key = machineKey(machine);
      if (scheduled.has(key)) return reject('INVALID_MAINTENANCE_SCHEDULE', `${describe(machine)} is in two windows`);
      scheduled.add(key);
    }
  }
  // In key order: Map order differs on a replica restored from a snapshot, and the message
  // (part of the replicated result) must not.
  for (const status of sortedValues(state.machines)) {
    if (status.mode === 'DOWN' && !scheduled.has(machineKey(status.machine))) {
      return reject('MACHINE_IS_DOWN', `${describe(status.machine)} is down and must stay scheduled`);
    }
  }
  return null;
}

export function applyUpdateMaintenanceSchedule(
  state: State,
  command: UpdateMaintenanceSchedule,
  index: LogIndex,
): ApplyResult {
  const problem = checkSchedule(state, command);
  if (problem !== null) return problem;
  const scheduled = new Map<MachineKey, MachineId>();
  for (const window of command.windows)
    for (const machine of window.machines) scheduled.set(machineKey(machine), machine);
  for (const key of [...state.machines.keys()]) if (!scheduled.has(key)) state.machines.delete(key);
  for (const [key, machine] of scheduled) {
    if (!state.machines.has(key))
      state.machines.set(key, { machine, mode: 'DRAINING', modeChangedAt: command.at, modifyIndex: index });
  }
  state.maintenanceSchedule = { windows: command.windows, modifyIndex: index };
  return success;
}

export function applyStartMaintenance(
  state: State,
  command: StartMaintenance,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  for (const machine of command.machines) {
    const status = state.machines.get(machineKey(machine));
    if (status === undefined)
      return reject('MACHINE_NOT_SCHEDULED', `${describe(machine)} is in no maintenance window`);
    if (status.mode !== 'DRAINING') return reject('MACHINE_NOT_DRAINING', `${describe(machine)} is already down`);
  }
  for (const machine of command.machines) {
    const key = machineKey(machine);
    state.machines.set(key, { machine, mode: 'DOWN', modeChangedAt: command.at, modifyIndex: index });
    // Agents holding offers, in id order: maintenance is rare, and this is bounded by the agents.
    for (const agentId of [...state.derived.offersByAgent.keys()].sort(compareStrings)) {
      const agent = state.agents.get(agentId);
      if (agent !== undefined && agentOnMachine(agent, machine))
        removeOffersOnAgent(state, agentId, 'MAINTENANCE', index, events);
    }
  }
  return success;
}

export function applyStopMaintenance(state: State, command: StopMaintenance, index: LogIndex): ApplyResult {
  for (const machine of command.machines) {
    const status = state.machines.get(machineKey(machine));
    if (status?.mode !== 'DOWN') return reject('MACHINE_NOT_DOWN', `${describe(machine)} is not down`);
  }
  const stopped = new Set(command.machines.map(machineKey));
  for (const key of stopped) state.machines.delete(key);
  const windows = state.maintenanceSchedule.windows
    .map((window) => ({ ...window, machines: window.machines.filter((machine) => !stopped.has(machineKey(machine))) }))
    .filter((window) => window.machines.length > 0);
  state.maintenanceSchedule = { windows, modifyIndex: index };
  return success;
}
