// The web origins of the Raft members (`http://host:port` per member address), for the UI's
// Content-Security-Policy and the masters' CORS answers. The page a master serves must keep
// working when that master dies, so it may talk to the other masters; those are the only other
// origins it may reach, and the only ones a master answers cross-origin requests from.
//
// The list is read from this master's Raft configuration on every request, so a member added
// with ADD_MASTER is allowed from then on (a page loaded before it keeps its older CSP).
import type { MasterCore } from '../master/interface.ts';

/** host:port with a DNS name or IPv4 address, or [IPv6]:port: nothing that could break a header. */
const memberAddressPattern = /^[A-Za-z0-9.-]{1,253}:\d{1,5}$|^\[[0-9A-Fa-f:.]{2,45}\]:\d{1,5}$/;

export type WebScheme = 'http' | 'https';

/** The scheme the page was served with: masters share one, so their origins use it too. */
export function webScheme(protocol: string): WebScheme {
  return protocol === 'https' ? 'https' : 'http';
}

export function isMemberAddress(address: string): boolean {
  return memberAddressPattern.test(address);
}

/** Every member's origin, this master's own included, in member order, without duplicates. */
export function memberOrigins(master: MasterCore, scheme: WebScheme): string[] {
  const origins = new Set<string>();
  for (const member of master.raft().members) {
    if (isMemberAddress(member.address)) origins.add(`${scheme}://${member.address}`);
  }
  if (isMemberAddress(master.address)) origins.add(`${scheme}://${master.address}`);
  return [...origins];
}
