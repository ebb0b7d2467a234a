// Which masters the page knows and in what order to ask them for the leader. The page starts
// knowing only the master that served it; GET_RAFT's member list teaches it the others, so when
// that master dies the page still has somewhere to go. Pure: runs in Node too.
import { isMasterAddress, masterOrigin } from './format.js';

/** Masters remembered at most (Raft clusters have 3 to 7 voters, plus a few learners). */
export const maxKnownMasters = 16;

export class MasterDirectory {
  /** id → address, in the members' order. */
  #members = new Map();
  #pageMasterId = null;

  /** `pageOrigin`: location.origin; `protocol`: location.protocol, for the other masters' origins. */
  constructor(pageOrigin, protocol) {
    this.pageOrigin = pageOrigin;
    this.protocol = protocol;
  }

  /**
   * A GET_RAFT answer from the master at `origin`. The page's own master is asked by its own
   * origin (the name in the address bar may differ from its member address: localhost, a DNS
   * alias), and is reached that way from then on, same-origin.
   */
  learn(raft, origin) {
    if (typeof raft?.id !== 'string') return;
    if (origin === this.pageOrigin) this.#pageMasterId = raft.id;
    const members = Array.isArray(raft.members) ? raft.members : [];
    const next = new Map();
    for (const member of members.slice(0, maxKnownMasters)) {
      if (typeof member?.id === 'string' && isMasterAddress(member.address)) next.set(member.id, member.address);
    }
    if (next.size > 0) this.#members = next;
  }

  /** The origin to reach the master at `address` by, or null for a strange address. */
  originOf(address) {
    if (this.#pageMasterId !== null && this.#members.get(this.#pageMasterId) === address) return this.pageOrigin;
    return masterOrigin(address, this.protocol);
  }

  /** Every master known: {id, address, origin}; the page's own first when nothing else is known. */
  members() {
    const known = [...this.#members].map(([id, address]) => ({ id, address, origin: this.originOf(address) }));
    if (!known.some((member) => member.origin === this.pageOrigin)) {
      known.unshift({ id: this.#pageMasterId, address: null, origin: this.pageOrigin });
    }
    return known;
  }

  /**
   * Where to look for the leader, best guess first: the leader someone named, the master the
   * page was following, the page's own master, then every other member.
   */
  candidates(leaderAddress, currentOrigin) {
    const ordered = [
      leaderAddress === null ? null : this.originOf(leaderAddress),
      currentOrigin,
      this.pageOrigin,
      ...this.members().map((member) => member.origin),
    ];
    return [...new Set(ordered.filter((origin) => typeof origin === 'string'))];
  }
}
