// The agent's resources and attributes: parsed from the Mesos-style flags
// ("cpus:4;mem:8192;disk:20000;ports:[31000-32000]", "cpus(web):2" for a static reservation;
// "rack:r1;zone:dc1") or detected from the machine for what the flag leaves out.
import { statfsSync } from 'node:fs';
import os from 'node:os';
import type { WireRange, WireResource } from '../protocol/agent.ts';

const mebibyte = 1024 * 1024;
/** Mesos' reserve for the host itself: 1 GiB of memory (half when the machine has under 2 GiB). */
const memoryReserveMb = 1024;
/** Mesos' reserve of disk: 5 GiB (half when the disk has under 10 GiB). */
const diskReserveMb = 5 * 1024;
export const defaultPorts: readonly WireRange[] = [{ begin: 31000, end: 32000 }];

export class AgentFlagError extends Error {
  override name = 'AgentFlagError';
}

function parseRanges(text: string, where: string): WireRange[] {
  const inner = /^\[(.*)\]$/.exec(text.trim());
  if (!inner) throw new AgentFlagError(`${where}: ranges are written [begin-end,begin-end], got "${text}"`);
  return inner[1]!
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const bounds = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(part);
      if (!bounds || Number(bounds[1]) > Number(bounds[2]))
        throw new AgentFlagError(`${where}: "${part}" is not begin-end`);
      return { begin: Number(bounds[1]), end: Number(bounds[2]) };
    });
}

/** "cpus:4;mem(web):512;ports:[31000-32000]" → resources (role "*" unless given in parentheses). */
export function parseResourcesFlag(text: string): WireResource[] {
  const list: WireResource[] = [];
  for (const part of text
    .split(';')
    .map((item) => item.trim())
    .filter((item) => item !== '')) {
    const match = /^([A-Za-z][A-Za-z0-9_.-]*)(?:\(([^)]+)\))?:(.+)$/.exec(part);
    if (!match) throw new AgentFlagError(`--resources: "${part}" is not name:value or name(role):value`);
    const [, name, role, value] = match as unknown as [string, string, string | undefined, string];
    if (value.trim().startsWith('[')) {
      list.push({ name, role: role ?? '*', type: 'RANGES', ranges: parseRanges(value, `--resources ${name}`) });
      continue;
    }
    const scalar = Number(value);
    if (!Number.isFinite(scalar) || scalar < 0)
      throw new AgentFlagError(`--resources: ${name} must be a non-negative number, got "${value}"`);
    list.push({ name, role: role ?? '*', type: 'SCALAR', scalar });
  }
  return list;
}

/** "rack:r1;zone:dc1" → { rack: 'r1', zone: 'dc1' }. */
export function parseAttributesFlag(text: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const part of text
    .split(';')
    .map((item) => item.trim())
    .filter((item) => item !== '')) {
    const colon = part.indexOf(':');
    if (colon <= 0) throw new AgentFlagError(`--attributes: "${part}" is not name:value`);
    attributes[part.slice(0, colon).trim()] = part.slice(colon + 1).trim();
  }
  return attributes;
}

function reserveOf(totalMb: number, reserveMb: number): number {
  return totalMb >= 2 * reserveMb ? totalMb - reserveMb : Math.floor(totalMb / 2);
}

/** What the machine has, for each well-known resource the flag did not name (Mesos' defaults). */
export function detectResources(workDir: string, given: readonly WireResource[]): WireResource[] {
  const named = new Set(given.map((resource) => resource.name));
  const detected: WireResource[] = [...given];
  if (!named.has('cpus')) detected.push({ name: 'cpus', role: '*', type: 'SCALAR', scalar: os.cpus().length });
  if (!named.has('mem')) {
    detected.push({
      name: 'mem',
      role: '*',
      type: 'SCALAR',
      scalar: reserveOf(Math.floor(os.totalmem() / mebibyte), memoryReserveMb),
    });
  }
  if (!named.has('disk')) {
    const stats = statfsSync(workDir);
    detected.push({
      name: 'disk',
      role: '*',
      type: 'SCALAR',
      scalar: reserveOf(Math.floor((stats.bavail * stats.bsize) / mebibyte), diskReserveMb),
    });
  }
  if (!named.has('ports')) detected.push({ name: 'ports', role: '*', type: 'RANGES', ranges: defaultPorts });
  return detected;
}
