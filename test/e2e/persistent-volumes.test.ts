// Persistent volumes end to end (issue 16): three real masters, one real agent process. The
// operator reserves disk for role "db" (RESERVE_RESOURCES) and makes a volume of it
// (CREATE_VOLUMES); a framework of "db" runs a task that writes into the volume, then a second
// task that reads the file back; the agent is SIGKILLed and restarted and the volume comes back
// in the offers with its data; a framework of another role never sees it; a volume the scheduler
// makes itself (ACCEPT CREATE) is destroyed by ACCEPT DESTROY, and the operator's by
// DESTROY_VOLUMES, which deletes the data on the agent. Waits poll what the cluster reports.
// flotilla-test-timeout-seconds: 300
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SchedulerClient } from '../../src/frameworks/sdk/client.ts';
import { parseMasterList } from '../../src/frameworks/sdk/masters.ts';
import type { Offer, Resource, TaskStatus } from '../../src/protocol/mesos.ts';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { waitFor } from '../support/wait.ts';
import { E2eCluster } from './support/cluster.ts';
import { reservationRole } from './support/framework.ts';

const waitTimeoutMs = 90_000;
const role = 'db';
const operatorVolumeId = 'data1';
const schedulerVolumeId = 'scratch';

/** Declined offers come back this soon, so the test never waits long for resources. */
const declineRefuseSeconds = 0.5;

/**
 * A framework of one role. It keeps every offer it was ever made (`everOffered`); a "bystander"
 * declines each at once, the other holds them until `takeOffer` finds the one it waits for
 * (declining the rest, so the agent's resources keep coming round).
 */
class VolumeFramework {
  readonly client: SchedulerClient;
  readonly seen: Offer[] = [];
  readonly everOffered: Offer[] = [];
  readonly statuses = new Map<string, TaskStatus>();

  constructor(name: string, frameworkRole: string, masters: string, bystander = false) {
    this.client = new SchedulerClient({
      masters: parseMasterList(masters),
      framework: {
        user: os.userInfo().username,
        name,
        roles: [frameworkRole],
        failover_timeout: 300,
        checkpoint: true,
        principal: `${name}-principal`,
        capabilities: [{ type: 'MULTI_ROLE' }],
      },
      reconnect: { baseMs: 250, maxMs: 2_000 },
    });
    this.client.on('OFFERS', (event) => {
      this.everOffered.push(...event.offers.offers);
      if (bystander) void this.decline(event.offers.offers);
      else this.seen.push(...event.offers.offers);
    });
    this.client.on('RESCIND', (event) => this.#forget(event.rescind.offer_id.value));
    this.client.on('UPDATE', (event) => this.statuses.set(event.update.status.task_id.value, event.update.status));
  }

  #forget(offerId: string): void {
    const at = this.seen.findIndex((offer) => offer.id.value === offerId);
    if (at >= 0) this.seen.splice(at, 1);
  }

  decline(offers: readonly Offer[]): Promise<void> {
    if (offers.length === 0) return Promise.resolve();
    return this.client
      .decline(
        offers.map((offer) => offer.id),
        { refuse_seconds: declineRefuseSeconds },
      )
      .catch(() => undefined);
  }

  /** Waits for an offer that `accepts` and has cpus and mem for a task; declines the others. */
  async takeOffer(what: string, accepts: (offer: Offer) => boolean): Promise<Offer> {
    const fits = (offer: Offer): boolean =>
      accepts(offer) && scalar(offer, 'cpus', '*') !== undefined && scalar(offer, 'mem', '*') !== undefined;
    return waitFor(
      async () => {
        const found = this.seen.find(fits);
        const others = this.seen.filter((offer) => offer !== found);
        this.seen.length = 0;
        await this.decline(others);
        return found ?? null;
      },
      { timeoutMs: waitTimeoutMs, what, intervalMs: 100 },
    );
  }

  async declineAll(): Promise<void> {
    await this.decline(this.seen.splice(0));
  }

  async finalState(taskId: string): Promise<TaskStatus> {
    return waitFor(
      () => {
        const status = this.statuses.get(taskId);
        return status !== undefined &&
          ['TASK_FINISHED', 'TASK_FAILED', 'TASK_ERROR', 'TASK_LOST'].includes(status.state)
          ? status
          : null;
      },
      { timeoutMs: waitTimeoutMs, what: `task ${taskId} to end`, intervalMs: 100 },
    );
  }
}

const volumeIdOf = (resource: Resource): string | null => resource.disk?.persistence.id ?? null;
const volumeIn = (offer: Offer, id: string): Resource | undefined =>
  offer.resources.find((resource) => volumeIdOf(resource) === id);
const scalar = (offer: Offer, name: string, from: string): Resource | undefined =>
  offer.resources.find(
    (resource) =>
      resource.name === name &&
      volumeIdOf(resource) === null &&
      reservationRole(resource) === from &&
      (resource.scalar?.value ?? 0) > 0,
  );

/** A small task of plain cpus and mem from the offer, plus `extra` (a volume). */
function task(offer: Offer, taskId: string, shell: string, extra: readonly Resource[]) {
  const piece = (name: string, value: number): Resource => {
    const from = scalar(offer, name, '*');
    if (from === undefined) throw new Error(`offer ${offer.id.value} has no ${name}`);
    return { ...from, scalar: { value } };
  };
  return {
    name: taskId,
    task_id: { value: taskId },
    agent_id: offer.agent_id,
    resources: [piece('cpus', 0.1), piece('mem', 32), ...extra],
    command: { value: shell, shell: true },
  };
}

function dbVolume(id: string, size: number, containerPath: string): Resource {
  return {
    name: 'disk',
    type: 'SCALAR',
    scalar: { value: size },
    reservations: [{ type: 'DYNAMIC', role }],
    disk: { persistence: { id }, volume: { container_path: containerPath, mode: 'RW' } },
  };
}

let cluster: E2eCluster;
let agentId = '';
const db = (): VolumeFramework => frameworks.db!;
const frameworks: { db?: VolumeFramework; other?: VolumeFramework } = {};

const noDocker = await dockerUnavailableReason();
const image = process.env.FLOTILLA_TEST_IMAGE ?? 'flotilla-test:busybox';

test.before(async () => {
  cluster = await E2eCluster.start('volumes', []);
  const containerizers = noDocker === undefined ? ['--containerizers', 'process,docker'] : [];
  await cluster.addAgent('cpus:2;mem:512;disk:400;ports:[31000-31009]', containerizers);
  agentId = (await cluster.agentViews())[0]!.id;
});
test.after(async () => {
  for (const framework of Object.values(frameworks)) await framework.client.teardown().catch(() => undefined);
  await cluster?.stop();
});

test('the operator reserves disk for a role and makes a persistent volume of it', async () => {
  await cluster.operator({
    type: 'RESERVE_RESOURCES',
    reserve_resources: {
      agent_id: { value: agentId },
      resources: [{ name: 'disk', type: 'SCALAR', scalar: { value: 200 }, reservations: [{ type: 'DYNAMIC', role }] }],
    },
  });
  await cluster.operator({
    type: 'CREATE_VOLUMES',
    create_volumes: { agent_id: { value: agentId }, volumes: [dbVolume(operatorVolumeId, 64, 'data')] },
  });
  const views = await cluster.operator<{ get_agents: { agents: { total_resources: Resource[] }[] } }>({
    type: 'GET_AGENTS',
  });
  const volume = views.get_agents.agents[0]!.total_resources.find((r) => volumeIdOf(r) === operatorVolumeId);
  assert.ok(volume, 'GET_AGENTS shows the volume');
  assert.is(volume.scalar?.value, 64);
  assert.is(reservationRole(volume), role);
  assert.is(volume.disk?.volume.container_path, 'data');
});

test('a task writes into the volume; the next task of the role reads it; another role never sees it', async () => {
  frameworks.other = new VolumeFramework('other', 'web', cluster.masterList, true);
  frameworks.db = new VolumeFramework('db', role, cluster.masterList);
  await frameworks.other.client.subscribe();
  await db().client.subscribe();
  const first = await db().takeOffer(
    'an offer to "db" with the volume',
    (o) => volumeIn(o, operatorVolumeId) !== undefined,
  );
  const volume = volumeIn(first, operatorVolumeId)!;
  assert.is(volume.disk?.persistence.principal, undefined, 'an anonymous operator made it: no principal');
  await db().client.accept(
    [first.id],
    [{ type: 'LAUNCH', launch: { task_infos: [task(first, 'writer', 'echo persisted-data > data/note', [volume])] } }],
  );
  assert.is((await db().finalState('writer')).state, 'TASK_FINISHED');
  const second = await db().takeOffer('the volume offered back', (o) => volumeIn(o, operatorVolumeId) !== undefined);
  await db().client.accept(
    [second.id],
    [
      {
        type: 'LAUNCH',
        launch: {
          task_infos: [
            task(second, 'reader', 'grep -q persisted-data data/note', [volumeIn(second, operatorVolumeId)!]),
          ],
        },
      },
    ],
  );
  assert.is((await db().finalState('reader')).state, 'TASK_FINISHED', "the second task read the first one's file");
  const agent = cluster.agents[0]!;
  const hostFile = path.join(agent.workDir, 'volumes', 'roles', role, operatorVolumeId, 'note');
  assert.is(readFileSync(hostFile, 'utf8').trim(), 'persisted-data');
  assert.ok(frameworks.other.everOffered.length > 0, 'the other role was offered the agent too');
});

test('the agent is SIGKILLed and restarted: the volume and its data are offered back', async () => {
  const agent = cluster.agents[0]!;
  await db().declineAll();
  await agent.stop('SIGKILL');
  agent.launch();
  await waitFor(async () => (await cluster.agentViews()).some((view) => view.id === agentId && view.active), {
    timeoutMs: waitTimeoutMs,
    what: 'the restarted agent to re-register',
    intervalMs: 200,
  });
  const offer = await db().takeOffer(
    'the volume after the restart',
    (o) => volumeIn(o, operatorVolumeId) !== undefined,
  );
  await db().client.accept(
    [offer.id],
    [
      {
        type: 'LAUNCH',
        launch: {
          task_infos: [
            task(offer, 'after-restart', 'grep -q persisted-data data/note', [volumeIn(offer, operatorVolumeId)!]),
          ],
        },
      },
    ],
  );
  assert.is((await db().finalState('after-restart')).state, 'TASK_FINISHED');
});

testUnless(test, noDocker, 'a Docker task sees the volume under /mnt/mesos/sandbox and reads the data', async () => {
  const offer = await db().takeOffer(
    'the volume for a Docker task',
    (o) => volumeIn(o, operatorVolumeId) !== undefined,
  );
  const info = task(offer, 'docker-reader', 'grep -q persisted-data /mnt/mesos/sandbox/data/note', [
    volumeIn(offer, operatorVolumeId)!,
  ]);
  const docker = {
    ...info,
    container: { type: 'DOCKER' as const, docker: { image, network: 'NONE' as const, force_pull_image: false } },
  };
  await db().client.accept([offer.id], [{ type: 'LAUNCH', launch: { task_infos: [docker] } }]);
  const status = await db().finalState('docker-reader');
  assert.is(status.state, 'TASK_FINISHED', status.message);
});

test('ACCEPT CREATE and LAUNCH together, then ACCEPT DESTROY; the scheduler volume records its principal', async () => {
  const offer = await db().takeOffer('reserved disk for a new volume', (o) => scalar(o, 'disk', role) !== undefined);
  const wanted = dbVolume(schedulerVolumeId, 16, 'scratch');
  await db().client.accept(
    [offer.id],
    [
      { type: 'CREATE', create: { volumes: [wanted] } },
      { type: 'LAUNCH', launch: { task_infos: [task(offer, 'scratch-writer', 'echo x > scratch/file', [wanted])] } },
    ],
  );
  assert.is((await db().finalState('scratch-writer')).state, 'TASK_FINISHED');
  const back = await db().takeOffer('the new volume offered', (o) => volumeIn(o, schedulerVolumeId) !== undefined);
  const made = volumeIn(back, schedulerVolumeId)!;
  assert.is(made.disk?.persistence.principal, 'db-principal');
  const folder = path.join(cluster.agents[0]!.workDir, 'volumes', 'roles', role, schedulerVolumeId);
  assert.ok(existsSync(path.join(folder, 'file')));
  await db().client.accept([back.id], [{ type: 'DESTROY', destroy: { volumes: [made] } }]);
  await waitFor(() => !existsSync(folder), { timeoutMs: waitTimeoutMs, what: 'the agent to delete the volume' });
});

test('DESTROY_VOLUMES deletes the data on the agent; the volume is never offered to another role', async () => {
  const folder = path.join(cluster.agents[0]!.workDir, 'volumes', 'roles', role, operatorVolumeId);
  assert.ok(existsSync(folder));
  await cluster.operator({
    type: 'DESTROY_VOLUMES',
    destroy_volumes: { agent_id: { value: agentId }, volumes: [dbVolume(operatorVolumeId, 64, 'data')] },
  });
  await waitFor(() => !existsSync(folder), { timeoutMs: waitTimeoutMs, what: 'the agent to delete the volume' });
  const views = await cluster.operator<{ get_agents: { agents: { total_resources: Resource[] }[] } }>({
    type: 'GET_AGENTS',
  });
  assert.not.ok(views.get_agents.agents[0]!.total_resources.some((r) => volumeIdOf(r) !== null));
  const other = frameworks.other!;
  assert.ok(other.client.frameworkId !== null);
  const leaked = other.everOffered.flatMap((offer) => offer.resources).filter((r) => volumeIdOf(r) !== null);
  assert.equal(leaked, [], 'a framework of "web" was offered a volume of "db"');
});

test.run();
