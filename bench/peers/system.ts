// What the side-by-side benchmark needs of each system under test.
import type { WriteClient } from './load.ts';

/** flotilla-baseline: another checkout's Flotilla (--baseline), measured interleaved for before/after. */
export type SystemName = 'flotilla' | 'etcd' | 'zookeeper' | 'flotilla-baseline';

export interface MemberView {
  readonly index: number;
  readonly leader: boolean;
  /** The term (etcd, Flotilla) or epoch (ZooKeeper) this member is in. */
  readonly term: number;
}

export interface PeerSystem {
  readonly name: SystemName;
  /** Starts three members with fresh data directories; resolves once a leader is elected. */
  start(): Promise<void>;
  /** Resolves once every member answers and agrees on a leader: the state before a round or a kill. */
  waitHealthy(timeoutMs: number): Promise<MemberView[]>;
  /** A client with its own connection, aimed where this system's clients write (see each system). */
  openClient(client: number): Promise<WriteClient>;
  /** One write attempt through member `index` (following redirects): true once acknowledged. */
  attemptWrite(index: number, value: string, timeoutMs: number): Promise<boolean>;
  /** The member process at `index`, to kill, freeze and restart. */
  member(index: number): { signal(signal: NodeJS.Signals): Promise<void>; start(): void };
  /** Before a kill: open what failover writes through `survivors` need while a leader exists. */
  beforeKill?(survivors: readonly number[]): Promise<void>;
  /** After a failover was measured: close what beforeKill opened. */
  afterFailover?(): Promise<void>;
  stop(): Promise<void>;
}

/** Why a system cannot run on this machine (a missing package), or null when it can. */
export type Availability = string | null;
