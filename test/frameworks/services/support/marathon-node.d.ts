// marathon-node (npm) ships no types: the calls the tests make, as its lib/*.js define them.
declare module 'marathon-node' {
  interface EventSourceLike {
    addEventListener(type: string, listener: (event: { data: string }) => void): void;
    close(): void;
    onerror: ((error: unknown) => void) | null;
  }
  interface MarathonNodeClient {
    apps: {
      getList(query?: Record<string, unknown>): Promise<{ apps: Record<string, unknown>[] }>;
      create(body: unknown): Promise<Record<string, unknown>>;
      getOne(appId: string, query?: Record<string, unknown>): Promise<{ app: Record<string, unknown> }>;
      update(appId: string, body: unknown, force?: boolean): Promise<{ deploymentId: string; version: string }>;
      destroy(appId: string, force?: boolean): Promise<{ deploymentId: string; version: string }>;
      restart(appId: string, force?: boolean): Promise<{ deploymentId: string; version: string }>;
      getTasks(appId: string): Promise<{ tasks: Record<string, unknown>[] }>;
      killTask(appId: string, taskId: string, scale?: boolean): Promise<Record<string, unknown>>;
      getVersions(appId: string): Promise<{ versions: string[] }>;
      getVersion(appId: string, version: string): Promise<Record<string, unknown>>;
    };
    deployments: {
      getList(): Promise<Record<string, unknown>[]>;
      destroy(deploymentId: string, force?: boolean): Promise<{ deploymentId: string; version: string } | undefined>;
    };
    queue: { get(): Promise<{ queue: Record<string, unknown>[] }>; resetDelay(appId: string): Promise<unknown> };
    tasks: { getList(query?: Record<string, unknown>): Promise<{ tasks: Record<string, unknown>[] }> };
    groups: { getList(): Promise<Record<string, unknown>>; getOne(groupId: string): Promise<Record<string, unknown>> };
    info: { get(): Promise<Record<string, unknown>> };
    leader: { get(): Promise<{ leader: string }> };
    misc: { ping(): Promise<string> };
    events: { createEventSource(options?: { eventType?: string | string[] }): EventSourceLike };
  }
  function Marathon(baseUrl: string, options?: Record<string, unknown>): MarathonNodeClient;
  export default Marathon;
}
