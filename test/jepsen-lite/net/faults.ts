// The state of every directed link between two masters: passing, dropping (packets vanish, as
// with iptables DROP: a TCP stream stalls and resumes intact when healed), cut (connections
// reset and refused, as with REJECT --reject-with tcp-reset), and an added delay. Both network
// implementations read it; the proxy applies it byte by byte, the namespaces with iptables.
import { EventEmitter } from 'node:events';

export type LinkMode = 'pass' | 'drop' | 'cut';

export interface LinkState {
  readonly mode: LinkMode;
  readonly delayMs: number;
  readonly jitterMs: number;
}

export const passing: LinkState = Object.freeze({ mode: 'pass', delayMs: 0, jitterMs: 0 });

/** node → the nodes it must not hear from (Jepsen's "grudge"). */
export type Grudge = ReadonlyMap<string, ReadonlySet<string>>;

/** One listener per proxy: n × (n − 1) pairs plus one per master, with room for additions. */
const maxListeners = 1_024;

export class FaultTable extends EventEmitter {
  private readonly links = new Map<string, LinkState>();

  constructor() {
    super();
    this.setMaxListeners(maxListeners);
  }

  link(from: string, to: string): LinkState {
    return this.links.get(linkKey(from, to)) ?? passing;
  }

  /** Sets several links at once and tells listeners once. */
  update(changes: readonly { from: string; to: string; state: Partial<LinkState> }[]): void {
    for (const { from, to, state } of changes) {
      if (from === to) throw new Error(`fault table: a link needs two nodes, got ${from} twice`);
      this.links.set(linkKey(from, to), { ...this.link(from, to), ...state });
    }
    this.emit('change');
  }

  healAll(): void {
    this.links.clear();
    this.emit('change');
  }

  /** Links that are not plainly passing, for the report and the status line. */
  faulty(): { from: string; to: string; state: LinkState }[] {
    return [...this.links.entries()]
      .filter(([, state]) => state.mode !== 'pass' || state.delayMs > 0)
      .map(([key, state]) => {
        const [from, to] = key.split('>') as [string, string];
        return { from, to, state };
      });
  }
}

function linkKey(from: string, to: string): string {
  return `${from}>${to}`;
}

/** The grudge as directed links: `to` must not hear from `from`. */
export function grudgeLinks(grudge: Grudge): { from: string; to: string }[] {
  const links: { from: string; to: string }[] = [];
  for (const [to, froms] of grudge) for (const from of froms) links.push({ from, to });
  return links;
}
