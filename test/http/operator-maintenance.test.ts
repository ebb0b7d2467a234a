// Maintenance through the operator API (Mesos "maintenance.md"; maintenance.proto Schedule,
// Window, ClusterStatus): a schedule round trip, draining → down → up, and the refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { fails, read, writeOk } from './support/operator.ts';

let cluster: SingleMaster;
test.before(async () => {
  cluster = await startSingleMaster();
});
test.after(async () => {
  await cluster.stop();
});

const startMs = 1_900_000_000_000;
const hourNanoseconds = 3600 * 1e9;

const window = (
  machineIds: unknown[],
  start: unknown = startMs * 1e6,
  duration: unknown = { nanoseconds: hourNanoseconds },
): Record<string, unknown> => ({
  machine_ids: machineIds,
  unavailability: { start: { nanoseconds: start }, ...(duration === null ? {} : { duration }) },
});
const updateSchedule = (windows: unknown): Record<string, unknown> => ({
  type: 'UPDATE_MAINTENANCE_SCHEDULE',
  update_maintenance_schedule: { schedule: { windows } },
});
const start = (machines: unknown): Record<string, unknown> => ({
  type: 'START_MAINTENANCE',
  start_maintenance: { machines },
});
const stop = (machines: unknown): Record<string, unknown> => ({
  type: 'STOP_MAINTENANCE',
  stop_maintenance: { machines },
});

const node1 = { hostname: 'node1', ip: '10.0.0.1' };

test('UPDATE_MAINTENANCE_SCHEDULE then GET_MAINTENANCE_SCHEDULE: the same schedule back', async () => {
  assert.equal(await read(cluster, 'GET_MAINTENANCE_SCHEDULE'), { schedule: { windows: [] } });
  // int64 nanoseconds may come as a JSON number or a decimal string (protobuf JSON).
  await writeOk(
    cluster,
    updateSchedule([
      window([node1]),
      window([{ ip: '10.0.0.3' }, { hostname: 'node2' }], String(BigInt(startMs + 60_000) * 1_000_000n)),
    ]),
  );
  const { schedule } = await read(cluster, 'GET_MAINTENANCE_SCHEDULE');
  assert.equal(schedule, {
    windows: [
      {
        machine_ids: [node1],
        unavailability: { start: { nanoseconds: startMs * 1e6 }, duration: { nanoseconds: hourNanoseconds } },
      },
      {
        machine_ids: [{ ip: '10.0.0.3' }, { hostname: 'node2' }],
        unavailability: {
          start: { nanoseconds: (startMs + 60_000) * 1e6 },
          duration: { nanoseconds: hourNanoseconds },
        },
      },
    ],
  });
});

test('scheduled machines drain; START_MAINTENANCE takes them down; STOP_MAINTENANCE brings them up', async () => {
  const draining = await read(cluster, 'GET_MAINTENANCE_STATUS');
  assert.equal(draining.status, {
    draining_machines: [
      { id: node1, statuses: [] },
      { id: { hostname: 'node2' }, statuses: [] },
      { id: { ip: '10.0.0.3' }, statuses: [] },
    ],
    down_machines: [],
  });
  await writeOk(cluster, start([node1]));
  const down = (await read(cluster, 'GET_MAINTENANCE_STATUS')).status;
  assert.equal(down.down_machines, [node1]);
  assert.is(down.draining_machines.length, 2);
  await fails(cluster, updateSchedule([window([{ hostname: 'node2' }])]), 409, 'MACHINE_IS_DOWN');
  await fails(cluster, start([node1]), 409, 'MACHINE_NOT_DRAINING');
  await writeOk(cluster, stop([node1]));
  const { schedule } = await read(cluster, 'GET_MAINTENANCE_SCHEDULE');
  assert.equal(
    schedule.windows.map((entry) => entry.machine_ids),
    [[{ ip: '10.0.0.3' }, { hostname: 'node2' }]],
    'a stopped machine leaves the schedule',
  );
  assert.equal((await read(cluster, 'GET_MAINTENANCE_STATUS')).status.down_machines, []);
});

test('START and STOP refuse machines in the wrong mode', async () => {
  await fails(cluster, start([{ hostname: 'node9' }]), 409, 'MACHINE_NOT_SCHEDULED');
  await fails(cluster, stop([{ hostname: 'node2' }]), 409, 'MACHINE_NOT_DOWN');
});

test('bad schedules and machine lists are refused field by field, and change nothing', async () => {
  const before = await read(cluster, 'GET_MAINTENANCE_SCHEDULE');
  const cases: [unknown, number, string][] = [
    [{ type: 'UPDATE_MAINTENANCE_SCHEDULE' }, 400, 'INVALID_BODY'],
    [{ type: 'UPDATE_MAINTENANCE_SCHEDULE', update_maintenance_schedule: {} }, 400, 'INVALID_BODY'],
    [updateSchedule({ machine_ids: [] }), 400, 'INVALID_BODY'],
    [updateSchedule([window([])]), 400, 'INVALID_BODY'],
    [updateSchedule([window([{}])]), 400, 'INVALID_BODY'],
    [updateSchedule([window([{ hostname: '', ip: '' }])]), 400, 'INVALID_BODY'],
    [updateSchedule([window([{ hostname: 'bad host' }])]), 400, 'INVALID_BODY'],
    [updateSchedule([window([{ ip: 'not-an-ip' }])]), 400, 'INVALID_BODY'],
    [updateSchedule([window([{ hostname: 7 }])]), 400, 'INVALID_BODY'],
    [updateSchedule([window([node1], -1)]), 400, 'INVALID_BODY'],
    [updateSchedule([window([node1], 'soon')]), 400, 'INVALID_BODY'],
    [updateSchedule([window([node1], 1.5)]), 400, 'INVALID_BODY'],
    [updateSchedule([window([node1], startMs * 1e6, null)]), 400, 'INVALID_BODY'],
    [updateSchedule([window([node1], startMs * 1e6, { nanoseconds: 1e30 })]), 400, 'INVALID_BODY'],
    [updateSchedule([{ machine_ids: [node1] }]), 400, 'INVALID_BODY'],
    [updateSchedule([window([node1]), window([node1])]), 400, 'INVALID_MAINTENANCE_SCHEDULE'],
    [start([]), 400, 'INVALID_BODY'],
    [start('node1'), 400, 'INVALID_BODY'],
    [{ type: 'START_MAINTENANCE' }, 400, 'INVALID_BODY'],
    [stop([{ ip: '' }]), 400, 'INVALID_BODY'],
  ];
  for (const [call, status, code] of cases) await fails(cluster, call, status, code);
  assert.equal(await read(cluster, 'GET_MAINTENANCE_SCHEDULE'), before);
});

test('an empty schedule clears it', async () => {
  await writeOk(cluster, updateSchedule([]));
  assert.equal(await read(cluster, 'GET_MAINTENANCE_SCHEDULE'), { schedule: { windows: [] } });
  assert.equal((await read(cluster, 'GET_MAINTENANCE_STATUS')).status, { draining_machines: [], down_machines: [] });
});

test.run();
