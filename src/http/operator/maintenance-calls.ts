// Maintenance (Mesos "maintenance.md"; master.proto GetMaintenanceSchedule, GetMaintenanceStatus,
// UpdateMaintenanceSchedule, StartMaintenance, StopMaintenance; maintenance.proto Schedule,
// Window, ClusterStatus). Scheduled machines drain; START takes draining machines down; STOP
// brings down machines back up and out of the schedule. Authorized per machine (its hostname,
// else its ip), with Mesos' actions: a schedule update needs update_maintenance_schedules for
// every machine it adds, keeps or drops; reads leave out the machines the caller may not see.
import type * as Operator from '../../protocol/operator.ts';
import {
  maxDurationMs,
  maxMachinesPerCommand,
  maxMachinesPerWindow,
  maxMaintenanceWindows,
  maxTimestampMs,
} from '../../state-machine/limits.ts';
import { agentOnMachine } from '../../state-machine/machines.ts';
import { sortedValues } from '../../state-machine/ordering.ts';
import { maintenanceSchedule, maintenanceStatus } from '../../state-machine/queries.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import { machineIdSchema, machineListSchema, maintenanceWindowSchema } from '../../state-machine/value-schema.ts';
import type { MachineId, MaintenanceWindow } from '../../state-machine/values.ts';
import { HttpError } from '../errors.ts';
import type { InverseOfferStatusView } from '../../master/scheduler/inverse-offer-answers.ts';
import { submitOrFail } from '../submit.ts';
import { stampedOnSubmit } from '../../master/interface.ts';
import {
  asObject,
  listField,
  nanosecondsFieldAsMilliseconds,
  objectField,
  optionalObjectField,
  optionalStringField,
  parseWith,
  type Fields,
} from './fields.ts';
import { idValue, mesosMachine, nanoseconds } from '../../master/mesos/mesos-json.ts';
import type { OperatorCallTable } from './registry.ts';
import { allowedObjects, requireAllowed, type RequestAccess } from '../access.ts';

/** MachineID: hostname and ip are both optional in Mesos, but one of them must be given. */
function parseMachine(value: unknown, path: string): MachineId {
  const machine = asObject(value, path);
  const hostname = optionalStringField(machine, 'hostname', `${path}.hostname`);
  const ip = optionalStringField(machine, 'ip', `${path}.ip`);
  return parseWith(machineIdSchema, { hostname, ip }, path);
}

function parseMachines(container: Fields, name: string, path: string, maxLength: number): readonly MachineId[] {
  const list = listField(container, name, path, { minLength: 1, maxLength });
  const machines = list.map((machine, position) => parseMachine(machine, `${path}[${position}]`));
  return parseWith(machineListSchema(maxLength), machines, path);
}

/**
 * Unavailability.duration is optional in Mesos (unset: down for good). Flotilla's windows are
 * bounded, so a window must say how long it lasts.
 */
function parseWindow(value: unknown, path: string): MaintenanceWindow {
  const window = asObject(value, path);
  const machines = parseMachines(window, 'machine_ids', `${path}.machine_ids`, maxMachinesPerWindow);
  const unavailability = objectField(window, 'unavailability', `${path}.unavailability`);
  const start = objectField(unavailability, 'start', `${path}.unavailability.start`);
  const duration = optionalObjectField(unavailability, 'duration', `${path}.unavailability.duration`);
  if (duration === null)
    throw new HttpError('INVALID_BODY', `${path}.unavailability.duration is required: a window has an end`);
  const startMs = nanosecondsFieldAsMilliseconds(
    start,
    'nanoseconds',
    `${path}.unavailability.start.nanoseconds`,
    maxTimestampMs,
  );
  const durationMs = nanosecondsFieldAsMilliseconds(
    duration,
    'nanoseconds',
    `${path}.unavailability.duration.nanoseconds`,
    maxDurationMs,
  );
  return parseWith(maintenanceWindowSchema, { machines, startMs, durationMs }, path);
}

/** A machine as an ACL object: its hostname, else its ip (Mesos' `machines` entity). */
function machineObject(machine: MachineId): string {
  return machine.hostname === '' ? machine.ip : machine.hostname;
}

function requireMachines(
  access: RequestAccess,
  action: 'update_maintenance_schedules' | 'start_maintenances' | 'stop_maintenances',
  machines: readonly MachineId[],
): void {
  for (const machine of machines) requireAllowed(access, action, machineObject(machine));
}

/** The windows with only the machines the caller may see; windows left empty are dropped. */
function visibleWindows(access: RequestAccess, windows: readonly MaintenanceWindow[]): MaintenanceWindow[] {
  const visible = allowedObjects(access, 'get_maintenance_schedules');
  return windows
    .map((window) => ({ ...window, machines: window.machines.filter((machine) => visible(machineObject(machine))) }))
    .filter((window) => window.machines.length > 0);
}

function mesosWindow(window: MaintenanceWindow): Operator.MaintenanceWindow {
  return {
    machine_ids: window.machines.map(mesosMachine),
    unavailability: { start: nanoseconds(window.startMs), duration: nanoseconds(window.durationMs) },
  };
}

/**
 * ClusterStatus.DrainingMachine.statuses: for each agent on the machine, each framework's latest
 * answer to its inverse offer (UNKNOWN while one is outstanding and unanswered), in agent then
 * framework order. allocator.proto InverseOfferStatus names no agent: a machine with two agents
 * lists a framework once per agent, as Mesos' `_getMaintenanceStatus` does.
 */
function drainingMachine(
  state: ReadonlyState,
  machine: MachineId,
  statuses: readonly InverseOfferStatusView[],
): Operator.ClusterStatus['draining_machines'][number] {
  const agentIds = new Set(
    sortedValues(state.agents)
      .filter((agent) => agentOnMachine(agent, machine))
      .map((agent) => agent.id as string),
  );
  return {
    id: mesosMachine(machine),
    statuses: statuses
      .filter((status) => agentIds.has(status.agentId))
      .map((status) => ({
        status: status.status,
        framework_id: idValue(status.frameworkId),
        timestamp: nanoseconds(status.timestampMs),
      })),
  };
}

export const maintenanceCalls: OperatorCallTable = {
  GET_MAINTENANCE_SCHEDULE: {
    write: false,
    async handle({ master, access }) {
      const schedule: Operator.MaintenanceSchedule = {
        windows: visibleWindows(access, maintenanceSchedule(master.state()).windows).map(mesosWindow),
      };
      return { type: 'GET_MAINTENANCE_SCHEDULE', get_maintenance_schedule: { schedule } };
    },
  },
  GET_MAINTENANCE_STATUS: {
    // Not a write, but leader-only: the frameworks' answers to inverse offers live in the
    // leader's memory (as in Mesos, where every operator call goes to the leader); `write` is
    // what makes the route redirect a follower (307). The ReadIndex round makes the schedule
    // part as fresh as any other read.
    write: true,
    mutates: false,
    async handle({ master, access }) {
      await master.linearizableRead();
      const state = master.state();
      const { drainingMachines, downMachines } = maintenanceStatus(state);
      const inverseOfferStatuses = master.inverseOfferStatuses();
      const visible = allowedObjects(access, 'get_maintenance_statuses');
      const shown = (machine: MachineId): boolean => visible(machineObject(machine));
      const status: Operator.ClusterStatus = {
        draining_machines: drainingMachines
          .filter(shown)
          .map((machine) => drainingMachine(state, machine, inverseOfferStatuses)),
        down_machines: downMachines.filter(shown).map(mesosMachine),
      };
      return { type: 'GET_MAINTENANCE_STATUS', get_maintenance_status: { status } };
    },
  },
  UPDATE_MAINTENANCE_SCHEDULE: {
    write: true,
    async handle({ master, call, access }) {
      const schedule = objectField(
        objectField(call, 'update_maintenance_schedule'),
        'schedule',
        'update_maintenance_schedule.schedule',
      );
      const path = 'update_maintenance_schedule.schedule.windows';
      const windows = listField(schedule, 'windows', path, { maxLength: maxMaintenanceWindows }).map(
        (window, position) => parseWindow(window, `${path}[${position}]`),
      );
      const current = maintenanceSchedule(master.state()).windows;
      const touched = [...current, ...windows].flatMap((window) => window.machines);
      requireMachines(access, 'update_maintenance_schedules', touched);
      await submitOrFail(master, { type: 'update_maintenance_schedule', at: stampedOnSubmit, windows });
      return null;
    },
  },
  START_MAINTENANCE: {
    write: true,
    async handle({ master, call, access }) {
      const machines = parseMachines(
        objectField(call, 'start_maintenance'),
        'machines',
        'start_maintenance.machines',
        maxMachinesPerCommand,
      );
      requireMachines(access, 'start_maintenances', machines);
      await submitOrFail(master, { type: 'start_maintenance', at: stampedOnSubmit, machines });
      return null;
    },
  },
  STOP_MAINTENANCE: {
    write: true,
    async handle({ master, call, access }) {
      const machines = parseMachines(
        objectField(call, 'stop_maintenance'),
        'machines',
        'stop_maintenance.machines',
        maxMachinesPerCommand,
      );
      requireMachines(access, 'stop_maintenances', machines);
      await submitOrFail(master, { type: 'stop_maintenance', at: stampedOnSubmit, machines });
      return null;
    },
  },
};
