// Where a scheduler finds the masters: a comma-separated list of host:port (the CLI's
// --masters, FLOTILLA_MASTERS), and the leader's address in a 307's Location. Mesos writes that
// Location scheme-relative, `//host:port/api/v1/scheduler` (src/master/http.cpp, redirect());
// an absolute http:// URL is accepted too, since a proxy in front of the masters may rewrite it.

import { maxMasters } from './limits.ts';
/** A master as the SDK dials it: `host:port`, host a name, IPv4 or bracketed IPv6. */
export type MasterAddress = string & { readonly __brand: 'MasterAddress' };

export const defaultMasters = '127.0.0.1:5050,127.0.0.1:5051,127.0.0.1:5052';

const addressPattern = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253}):(\d{1,5})$/;

export class MasterAddressError extends Error {
  override name = 'MasterAddressError';
}

/** Parses one `host:port`; throws MasterAddressError with the offending text. */
export function parseMasterAddress(text: string): MasterAddress {
  const match = addressPattern.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 1 && port <= 65535)) throw new MasterAddressError(`"${text}" is not host:port`);
  return `${match[1]}:${port}` as MasterAddress;
}

/** Parses `h:p,h:p,…` (duplicates dropped, order kept: the first is tried first). */
export function parseMasterList(text: string): MasterAddress[] {
  const masters: MasterAddress[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const address = parseMasterAddress(part);
    if (!masters.includes(address)) masters.push(address);
  }
  if (masters.length === 0) throw new MasterAddressError('the master list is empty');
  if (masters.length > maxMasters) throw new MasterAddressError(`at most ${maxMasters} masters, got ${masters.length}`);
  return masters;
}

/**
 * The master a redirect points at, or null when the Location is not one we can follow
 * (missing, another scheme, no port). Only the authority matters: the SDK always posts to
 * /api/v1/scheduler, whatever path the Location carries.
 */
export function parseRedirectLocation(location: string | undefined): MasterAddress | null {
  if (location === undefined) return null;
  const match = /^(?:http:)?\/\/([^/?#]+)/i.exec(location.trim());
  if (!match) return null;
  try {
    return parseMasterAddress(match[1]!);
  } catch {
    return null;
  }
}

/** `host` and `port` for node:http (brackets removed from an IPv6 literal). */
export function splitMasterAddress(address: MasterAddress): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}
