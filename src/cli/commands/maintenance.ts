// `flotilla maintenance schedule [FILE|--show] | start HOST… | stop HOST…` (Mesos
// maintenance.md): a schedule of windows puts machines into DRAINING (frameworks get inverse
// offers); START takes draining machines DOWN (their agents' tasks are lost); STOP brings them
// back. A machine is `hostname`, `ip`, or `hostname@ip`, exactly as the schedule names it.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type * as Mesos from '../../protocol/mesos.ts';
import type * as Operator from '../../protocol/operator.ts';
import { usageError } from '../client/errors.ts';
import { operatorCall, operatorRead } from '../client/operator.ts';
import { stateColor } from '../output/colors.ts';
import { isoNanoseconds } from '../output/format.ts';
import { renderTable } from '../output/table.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

interface ScheduleFlags extends ClusterFlags {
  readonly show?: boolean;
}

export const registerMaintenanceCommand: CommandRegistration = (program: Command) => {
  const maintenance = program
    .command('maintenance')
    .description('maintenance windows: schedule (drain), start (down), stop (back up)');
  withClusterFlags(
    maintenance
      .command('schedule')
      .description(
        'show the schedule and each machine\'s mode, or replace it with FILE (Mesos schedule JSON, "-" = stdin)',
      )
      .argument('[file]', 'a JSON file {"windows": [{"machine_ids": [...], "unavailability": {...}}]}')
      .option('--show', 'show the schedule (what no FILE does too)'),
  ).action(clusterAction('maintenance schedule', schedule));
  withClusterFlags(
    maintenance
      .command('start')
      .description('take draining machines down (their agents stop; their tasks are lost)')
      .argument('<machines...>', 'hostname, ip, or hostname@ip, as the schedule names them'),
  ).action(clusterAction('maintenance start', (context, args) => switchMachines(context, 'START', args)));
  withClusterFlags(
    maintenance
      .command('stop')
      .description('bring machines that are down back up, and out of the schedule')
      .argument('<machines...>', 'hostname, ip, or hostname@ip, as the schedule names them'),
  ).action(clusterAction('maintenance stop', (context, args) => switchMachines(context, 'STOP', args)));
};

/** `host`, `10.0.0.1`, or `host@10.0.0.1` → Mesos MachineID. */
export function parseMachine(text: string): Mesos.MachineId {
  const isIp = (value: string): boolean => /^[0-9.]+$/.test(value) || value.includes(':');
  const [first, second, ...rest] = text.split('@');
  if (first === undefined || first === '' || rest.length > 0 || second === '')
    throw usageError(`"${text}" is not a machine: give hostname, ip, or hostname@ip`);
  if (second !== undefined) return { hostname: first, ip: second };
  return isIp(first) ? { ip: first } : { hostname: first };
}

function describeMachine(machine: Mesos.MachineId): string {
  if (machine.hostname !== undefined && machine.ip !== undefined) return `${machine.hostname}@${machine.ip}`;
  return machine.hostname ?? machine.ip ?? '?';
}

async function switchMachines(
  context: CommandContext,
  action: 'START' | 'STOP',
  args: readonly unknown[],
): Promise<number> {
  const machines = (args[0] as string[]).map(parseMachine);
  const field = action === 'START' ? 'start_maintenance' : 'stop_maintenance';
  await operatorCall(context.client, { type: `${action}_MAINTENANCE`, [field]: { machines } });
  const names = machines.map(describeMachine).join(', ');
  if (context.json) context.printJson({ machines, mode: action === 'START' ? 'DOWN' : 'UP' });
  else context.print(action === 'START' ? `down for maintenance: ${names}` : `back up: ${names}`);
  return 0;
}

function readSchedule(file: string): Operator.MaintenanceSchedule {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw usageError(`${file} is not JSON: ${(error as Error).message}`);
  }
  const body = parsed as { windows?: unknown; schedule?: { windows?: unknown } };
  const schedule = Array.isArray(body.windows) ? body : body.schedule;
  if (schedule === undefined || !Array.isArray(schedule.windows))
    throw usageError(`${file} holds no "windows" list (nor "schedule": {"windows": …})`, 'see Mesos maintenance.md');
  return schedule as Operator.MaintenanceSchedule;
}

async function schedule(context: CommandContext, args: readonly unknown[], flags: ScheduleFlags): Promise<number> {
  const file = args[0] as string | undefined;
  if (file !== undefined && flags.show === true) throw usageError('give FILE or --show, not both');
  if (file !== undefined) {
    const windows = readSchedule(file).windows;
    await operatorCall(context.client, {
      type: 'UPDATE_MAINTENANCE_SCHEDULE',
      update_maintenance_schedule: { schedule: { windows } },
    });
    if (context.json) context.printJson({ windows: windows.length });
    else context.print(`maintenance schedule replaced: ${windows.length} window(s)`);
    return 0;
  }
  const [current, status] = await Promise.all([
    operatorRead<{ get_maintenance_schedule: { schedule: Operator.MaintenanceSchedule } }>(context.client, {
      type: 'GET_MAINTENANCE_SCHEDULE',
    }),
    operatorRead<{ get_maintenance_status: { status: Operator.ClusterStatus } }>(context.client, {
      type: 'GET_MAINTENANCE_STATUS',
    }),
  ]);
  const modes = new Map<string, string>();
  for (const machine of status.get_maintenance_status.status.draining_machines ?? [])
    modes.set(describeMachine(machine.id), 'DRAINING');
  for (const machine of status.get_maintenance_status.status.down_machines ?? [])
    modes.set(describeMachine(machine), 'DOWN');
  const rows = (current.get_maintenance_schedule.schedule.windows ?? []).flatMap((window, position) =>
    window.machine_ids.map((machine) => ({
      window: position + 1,
      machine: describeMachine(machine),
      mode: modes.get(describeMachine(machine)) ?? 'UP',
      start: isoNanoseconds(window.unavailability.start),
      duration_seconds: window.unavailability.duration.nanoseconds / 1e9,
    })),
  );
  if (context.json) context.printJson(rows);
  else if (rows.length === 0) context.print('no maintenance is scheduled');
  else
    context.print(
      renderTable(
        context.colors,
        ['WINDOW', 'MACHINE', 'MODE', 'START', 'DURATION'],
        rows.map((row) => [
          row.window,
          row.machine,
          stateColor(context.colors, row.mode),
          row.start,
          `${row.duration_seconds}s`,
        ]),
      ),
    );
  return 0;
}
