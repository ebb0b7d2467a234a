// Where `npm start` puts things, from its options: three masters on base, base+1, base+2 and
// one agent on base+5 (so the defaults are 5050–5052 and 5055), data and logs under one folder.
import path from 'node:path';

export const defaultBasePort = 5050;
export const masterIds = ['m1', 'm2', 'm3'] as const;
/** The agent sits a little above the masters, as Mesos' 5051 sits above its master's 5050. */
export const agentPortOffset = 5;
export const host = '127.0.0.1';

export interface NodePlan {
  readonly name: string;
  readonly kind: 'master' | 'agent';
  readonly address: string;
  readonly port: number;
  /** Its data directory (a master's Raft log, the agent's checkpoint and sandboxes). */
  readonly dataDir: string;
  readonly logFile: string;
}

export interface Layout {
  readonly basePort: number;
  readonly dataRoot: string;
  readonly logDir: string;
  readonly masters: readonly NodePlan[];
  readonly agent: NodePlan;
}

export function planLayout(basePort: number, dataRoot: string): Layout {
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + agentPortOffset > 65535)
    throw new Error(`the base port must be a whole number in [1, ${65535 - agentPortOffset}], got ${basePort}`);
  const logDir = path.join(dataRoot, 'logs');
  const node = (name: string, kind: NodePlan['kind'], port: number): NodePlan => ({
    name,
    kind,
    address: `${host}:${port}`,
    port,
    dataDir: path.join(dataRoot, name),
    logFile: path.join(logDir, `${name}.log`),
  });
  return {
    basePort,
    dataRoot,
    logDir,
    masters: masterIds.map((id, position) => node(id, 'master', basePort + position)),
    agent: node('agent', 'agent', basePort + agentPortOffset),
  };
}

export function allNodes(layout: Layout): NodePlan[] {
  return [...layout.masters, layout.agent];
}

/** A path as the user would type it: relative to where they are when it is inside, else absolute. */
export function shownPath(target: string, cwd: string = process.cwd()): string {
  const relative = path.relative(cwd, target);
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? target : `./${relative}`;
}
