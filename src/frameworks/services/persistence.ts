// Where the framework's state lives in the KV store (its own namespace), and how it is read
// back. The KV API has no listing, so indexes are keys too:
//   framework                 {"frameworkId"}            the Mesos framework id, kept across restarts
//   lease                     see lease.ts
//   apps/<shard>              ["/a", "/b/c", …]          app ids, sharded by hash (appIndexShards)
//   app/<id>                  AppEntry                   definition, versions, back-off, last failure
//   version/<id>/<version>    AppDefinition              each kept version (rollback, /versions)
//   instances/<id>/<page>     [InstanceRecord, …]        written before the task is launched
//   deployments               ["<id>", …]                running deployments
//   deployment/<id>           Deployment
import type { AppDefinition } from './app-definition.ts';
import type { Deployment } from './deployment.ts';
import { instanceFromRecord, type InstanceRecord, recordOf } from './instance.ts';
import { appIndexShards } from './limits.ts';
import type { AppId } from './path-id.ts';
import type { AppEntry, ServicesState } from './state.ts';
import type { KvStore } from './store.ts';

/** Bumped when a record's shape changes; a reader refuses a format it does not know. */
export const persistenceFormat = 1;

export const keys = {
  framework: 'framework',
  lease: 'lease',
  appShard: (shard: number): string => `apps/${shard}`,
  app: (appId: AppId): string => `app${appId}`,
  version: (appId: AppId, version: string): string => `version${appId}/${version}`,
  page: (appId: AppId, page: number): string => `instances${appId}/${page}`,
  deployments: 'deployments',
  deployment: (id: string): string => `deployment/${id}`,
} as const;

/** FNV-1a: a stable shard for an app id. */
export function shardOf(appId: AppId): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < appId.length; index++) {
    hash ^= appId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % appIndexShards;
}

interface StoredEntry extends Omit<AppEntry, 'definition'> {
  readonly format: number;
  readonly definition: AppDefinition;
}

export class Persistence {
  constructor(
    readonly store: KvStore,
    readonly state: ServicesState,
  ) {}

  saveFramework(frameworkId: string): Promise<void> {
    return this.store.write(keys.framework, () => JSON.stringify({ format: persistenceFormat, frameworkId }));
  }

  saveApp(appId: AppId): Promise<void> {
    return this.store.write(keys.app(appId), () => {
      const entry = this.state.apps.get(appId);
      if (entry === undefined) return null;
      return JSON.stringify({ format: persistenceFormat, ...entry } satisfies StoredEntry);
    });
  }

  saveAppIndex(appId: AppId): Promise<void> {
    const shard = shardOf(appId);
    return this.store.write(keys.appShard(shard), () => {
      const ids = [...this.state.apps.keys()].filter((id) => shardOf(id) === shard).sort();
      return ids.length === 0 ? null : JSON.stringify(ids);
    });
  }

  saveVersion(definition: AppDefinition): Promise<void> {
    const text = JSON.stringify(definition);
    return this.store.write(keys.version(definition.id, definition.version), () => text);
  }

  deleteVersion(appId: AppId, version: string): Promise<void> {
    return this.store.write(keys.version(appId, version), () => null);
  }

  async readVersion(appId: AppId, version: string): Promise<AppDefinition | null> {
    const text = await this.store.read(keys.version(appId, version));
    return text === null ? null : (JSON.parse(text) as AppDefinition);
  }

  savePage(appId: AppId, page: number): Promise<void> {
    return this.store.write(keys.page(appId, page), () => {
      const records = this.state
        .instancesOf(appId)
        .filter((instance) => instance.page === page)
        .map(recordOf)
        .sort((left, right) => left.taskId.localeCompare(right.taskId));
      return records.length === 0 ? null : JSON.stringify(records);
    });
  }

  saveDeployment(id: string): Promise<void> {
    return this.store.write(keys.deployment(id), () => {
      const deployment = this.state.deployments.get(id);
      return deployment === undefined ? null : JSON.stringify(deployment);
    });
  }

  saveDeploymentIndex(): Promise<void> {
    return this.store.write(keys.deployments, () => {
      const ids = [...this.state.deployments.keys()];
      return ids.length === 0 ? null : JSON.stringify(ids);
    });
  }

  async readFrameworkId(): Promise<string | null> {
    const text = await this.store.read(keys.framework);
    if (text === null) return null;
    const parsed = JSON.parse(text) as { format?: number; frameworkId?: string };
    checkFormat(parsed.format, keys.framework);
    return parsed.frameworkId ?? null;
  }

  /** Reads every app, instance and deployment into `state` (which is cleared first). */
  async load(parallel: number): Promise<void> {
    this.state.clear();
    const shardIds = await Promise.all(
      Array.from({ length: appIndexShards }, (_, shard) => this.#readJson<AppId[]>(keys.appShard(shard))),
    );
    const appIds = shardIds.flatMap((ids) => ids ?? []);
    await inBatches(appIds, parallel, (appId) => this.#loadApp(appId));
    const deploymentIds = (await this.#readJson<string[]>(keys.deployments)) ?? [];
    const deployments = await Promise.all(deploymentIds.map((id) => this.#readJson<Deployment>(keys.deployment(id))));
    for (const deployment of deployments) if (deployment !== null) this.state.addDeployment(deployment);
  }

  async #loadApp(appId: AppId): Promise<void> {
    const stored = await this.#readJson<StoredEntry>(keys.app(appId));
    if (stored === null) return;
    checkFormat(stored.format, keys.app(appId));
    const { format: _format, ...entry } = stored;
    this.state.apps.set(appId, entry);
    for (let page = 0; page < entry.pages; page++) {
      const records = (await this.#readJson<InstanceRecord[]>(keys.page(appId, page))) ?? [];
      for (const record of records) this.state.addInstance(instanceFromRecord(record, Date.now()));
    }
  }

  async #readJson<Value>(key: string): Promise<Value | null> {
    const text = await this.store.read(key);
    return text === null ? null : (JSON.parse(text) as Value);
  }
}

function checkFormat(format: number | undefined, key: string): void {
  if (format !== persistenceFormat) {
    throw new Error(`${key}: stored format ${format} is not ${persistenceFormat}; this version cannot read it`);
  }
}

async function inBatches<Item>(
  items: readonly Item[],
  size: number,
  run: (item: Item) => Promise<void>,
): Promise<void> {
  for (let start = 0; start < items.length; start += size) await Promise.all(items.slice(start, start + size).map(run));
}
