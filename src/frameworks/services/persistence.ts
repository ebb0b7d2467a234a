// Where the framework's state lives in the KV store (its own namespace), and how it is read
// back. The keys are found by listing them by prefix (the KV list API), so there is no index:
//   framework                 {"frameworkId"}            the Mesos framework id, kept across restarts
//   lease                     see lease.ts
//   app/<id>                  AppEntry                   definition, versions, back-off, last failure
//   version/<id>/<version>    AppDefinition              each kept version (rollback, /versions)
//   instances/<id>/<page>     [InstanceRecord, …]        written before the task is launched
//   deployment/<id>           Deployment                 a running deployment
// COMPAT: phase 1 also kept indexes (`apps/<shard>`, `deployments`); they are deleted when found.
import type { AppDefinition } from './app-definition.ts';
import type { Deployment } from './deployment.ts';
import { instanceFromRecord, type InstanceRecord, recordOf } from './instance.ts';
import type { AppId } from './path-id.ts';
import type { AppEntry, ServicesState } from './state.ts';
import type { KvStore } from './store.ts';

/** Bumped when a record's shape changes; a reader refuses a format it does not know. */
export const persistenceFormat = 1;

export const keys = {
  framework: 'framework',
  lease: 'lease',
  app: (appId: AppId): string => `app${appId}`,
  version: (appId: AppId, version: string): string => `version${appId}/${version}`,
  page: (appId: AppId, page: number): string => `instances${appId}/${page}`,
  deployment: (id: string): string => `deployment/${id}`,
} as const;

const prefixes = { app: 'app/', page: 'instances/', deployment: 'deployment/' } as const;
/** COMPAT: phase 1's index keys. */
const legacyIndexes = { appShards: 'apps/', deployments: 'deployments' } as const;

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

  async readFrameworkId(): Promise<string | null> {
    const text = await this.store.read(keys.framework);
    if (text === null) return null;
    const parsed = JSON.parse(text) as { format?: number; frameworkId?: string };
    checkFormat(parsed.format, keys.framework);
    return parsed.frameworkId ?? null;
  }

  /** Reads every app, instance and deployment into `state` (which is cleared first), page by page. */
  async load(): Promise<void> {
    this.state.clear();
    await this.store.readPrefix(prefixes.app, (key, text) => {
      const stored = JSON.parse(text) as StoredEntry;
      checkFormat(stored.format, key);
      const { format: _format, ...entry } = stored;
      this.state.apps.set(entry.definition.id, entry);
    });
    const nowMs = Date.now();
    await this.store.readPrefix(prefixes.page, (key, text) => {
      const { appId, page } = pageOf(key);
      // A page beyond the app's count (or of an app gone) is left over from a crash: never loaded.
      if (page >= (this.state.apps.get(appId)?.pages ?? 0)) return;
      for (const record of JSON.parse(text) as InstanceRecord[])
        this.state.addInstance(instanceFromRecord(record, nowMs));
    });
    await this.store.readPrefix(prefixes.deployment, (_key, text) => {
      this.state.addDeployment(JSON.parse(text) as Deployment);
    });
    await this.#dropLegacyIndexes();
  }

  /** COMPAT: deletes phase 1's index keys, which nothing reads any more. */
  async #dropLegacyIndexes(): Promise<void> {
    const found: string[] = [];
    await this.store.readPrefix(legacyIndexes.appShards, (key) => void found.push(key));
    if ((await this.store.read(legacyIndexes.deployments)) !== null) found.push(legacyIndexes.deployments);
    await Promise.all(found.map((key) => this.store.write(key, () => null)));
  }
}

function checkFormat(format: number | undefined, key: string): void {
  if (format !== persistenceFormat) {
    throw new Error(`${key}: stored format ${format} is not ${persistenceFormat}; this version cannot read it`);
  }
}

/** `instances/team/web/3` → the app `/team/web` and page 3. */
function pageOf(key: string): { appId: AppId; page: number } {
  const rest = key.slice('instances'.length);
  const slash = rest.lastIndexOf('/');
  return { appId: rest.slice(0, slash) as AppId, page: Number(rest.slice(slash + 1)) };
}
