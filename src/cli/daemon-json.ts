// `--json` for the daemons (`flotilla master`, `flotilla agent`). Every command takes --json
// (issue 17); for a daemon it means what a script needs from a process it starts: stdout carries
// one JSON object once the daemon listens and is ready to be talked to — its role, id, address,
// pid and version (`{"event":"started",…}`). When it cannot start, stderr gets one object with
// the error (`{"event":"failed","error":{"code","message"}}`) instead of the text line, as every
// command's --json failure (README "CLI"), and it exits non-zero. Its logs are JSON lines on
// stderr with or without the flag (src/util/logger.ts), so stdout stays one parseable line.
// Without --json, stdout stays empty as before. Commander's own refusals (an unknown flag, a
// required one missing) come before any action and stay text, as for every command.
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { flotillaVersion } from '../util/version.ts';

/** Why a daemon did not start: bad flags (exit 2) or a failed start (exit 1). */
export type DaemonFailureCode = 'USAGE' | 'START_FAILED';

export function withDaemonJson(command: Command): Command {
  return command.option(
    '--json',
    'print one JSON object on stdout once listening ({"event":"started",…}) or failing to start; logs stay JSON lines on stderr',
  );
}

export function jsonWanted(command: Command): boolean {
  return command.opts<{ json?: boolean }>().json === true;
}

/** host:port the server really listens on (the port given may have been 0). */
export function listeningAddress(address: AddressInfo | string | null, fallback: string): string {
  if (address === null || typeof address === 'string') return fallback;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${host}:${address.port}`;
}

export function printStarted(role: 'master' | 'agent', fields: Readonly<Record<string, unknown>>): void {
  const record = { event: 'started', role, ...fields, pid: process.pid, version: flotillaVersion() };
  process.stdout.write(`${JSON.stringify(record)}\n`);
}

export function printFailed(role: 'master' | 'agent', code: DaemonFailureCode, message: string): void {
  process.stderr.write(`${JSON.stringify({ event: 'failed', role, error: { code, message } })}\n`);
}
