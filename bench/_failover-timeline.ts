// Where a leader failover's re-registration time goes (issue 12, scale bench): from the SIGKILL
// to the new leader's election and its leader services running (its log lines), the agents' first
// dial after the kill and their dial of the new leader (the fleet's clocks), the leader receiving,
// proposing and committing each registration (its "agent re-registered" lines: leaderWaitMs,
// commitMs), and the agent reading `registered`. Every time is in ms after the kill, as the p50
// and the max over the agents. Wall clocks of processes on one machine: comparable to a few ms.
import type { FailoverTimeline } from './_agent-fleet.ts';
import { percentile, round } from './_report.ts';

export interface TimelineStep {
  readonly step: string;
  readonly p50Ms: number;
  readonly maxMs: number;
}

interface LogLine {
  readonly msg?: string;
  readonly time?: string;
  readonly socketOpenMs?: number;
  readonly leaderWaitMs?: number;
  readonly commitMs?: number;
}

function logLines(output: string, sinceMs: number): { line: LogLine; atMs: number }[] {
  const lines: { line: LogLine; atMs: number }[] = [];
  for (const text of output.split('\n')) {
    if (!text.startsWith('{')) continue;
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      continue;
    }
    const atMs = Date.parse(line.time ?? '');
    if (atMs >= sinceMs) lines.push({ line, atMs });
  }
  return lines;
}

function step(name: string, atMs: readonly number[], killedAtMs: number): TimelineStep {
  const after = atMs.filter(Number.isFinite).map((each) => each - killedAtMs);
  return { step: name, p50Ms: round(percentile(after, 0.5), 0), maxMs: round(percentile(after, 1), 0) };
}

/** The steps in order; `leaderOutput` is the new leader's stderr (JSON log lines). */
export function failoverTimeline(killedAtMs: number, fleet: FailoverTimeline, leaderOutput: string): TimelineStep[] {
  const lines = logLines(leaderOutput, killedAtMs);
  const first = (message: string): number[] => {
    const found = lines.find((each) => each.line.msg === message);
    return found === undefined ? [] : [found.atMs];
  };
  const registrations = lines.filter(
    (each) => each.line.msg === 'agent re-registered' || each.line.msg === 'agent registered',
  );
  const committedAtMs = registrations.map((each) => each.atMs);
  const proposedAtMs = registrations.map((each) => each.atMs - (each.line.commitMs ?? Number.NaN));
  const receivedAtMs = registrations.map(
    (each) => each.atMs - (each.line.commitMs ?? Number.NaN) - (each.line.leaderWaitMs ?? Number.NaN),
  );
  const acceptedAtMs = receivedAtMs.map((atMs, position) => atMs - (registrations[position]!.line.socketOpenMs ?? NaN));
  return [
    step('new leader: establishing leadership', first('leader services: establishing leadership'), killedAtMs),
    step('new leader: leader services running', first('leader services: leading'), killedAtMs),
    step('agent: first dial after the kill', fleet.firstDialAtMs, killedAtMs),
    step("agent: dial of the new leader's socket", fleet.leaderDialAtMs, killedAtMs),
    step('leader: handshake answered (socket accepted)', acceptedAtMs, killedAtMs),
    step('agent: register sent (socket open)', fleet.registerSentAtMs, killedAtMs),
    step('leader: register received', receivedAtMs, killedAtMs),
    step('leader: registration proposed', proposedAtMs, killedAtMs),
    step('leader: registration committed', committedAtMs, killedAtMs),
    step('agent: registered received', fleet.registeredAtMs, killedAtMs),
  ];
}
