// The leader's CPU profile of each phase of a cluster bench (`--profile DIR`): the masters run with
// --enable-profiling, and the bench starts a profile on the leader as a phase begins and collects
// it as the phase ends (POST /debug/pprof/start and /stop, src/http/routes/profiling.ts), into
// DIR/leader-<phase>-<master>.cpuprofile. The masters' own `--cpu-prof` files cover a whole process
// and only a survivor writes one; these cover the leader that is killed too. A phase whose leader
// changed keeps what the old leader's profile saw, if it still answers, and says so.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A profile of a phase of 10 minutes is tens of MB: the stop's answer may take a while. */
const stopTimeoutMs = 120_000;

export class LeaderProfiles {
  private running: { readonly phase: string; readonly id: string; readonly address: string } | null = null;
  readonly written: string[] = [];

  constructor(private readonly directory: string | null) {
    if (directory !== null) mkdirSync(directory, { recursive: true });
  }

  /** Ends the running phase's profile (if any) and starts one on `leader` for `phase`. */
  async phase(phase: string, leader: { readonly id: string; readonly address: string } | null): Promise<void> {
    await this.end();
    if (this.directory === null || leader === null) return;
    const response = await fetch(`http://${leader.address}/debug/pprof/start`, { method: 'POST' }).catch(
      (error: Error) => error,
    );
    if (response instanceof Error || response.status !== 204) {
      note(`no profile of ${phase}: ${leader.id} answered ${describe(response)}`);
      return;
    }
    this.running = { phase, id: leader.id, address: leader.address };
  }

  /** Collects the running phase's profile. */
  async end(): Promise<void> {
    const running = this.running;
    this.running = null;
    if (running === null || this.directory === null) return;
    const response = await fetch(`http://${running.address}/debug/pprof/stop`, {
      method: 'POST',
      signal: AbortSignal.timeout(stopTimeoutMs),
    }).catch((error: Error) => error);
    if (response instanceof Error || response.status !== 200) {
      note(`the profile of ${running.phase} is lost: ${running.id} answered ${describe(response)}`);
      return;
    }
    const file = path.join(this.directory, `leader-${running.phase}-${running.id}.cpuprofile`);
    writeFileSync(file, Buffer.from(await response.arrayBuffer()));
    this.written.push(file);
    note(`the leader's profile of ${running.phase}: ${file}`);
  }
}

function describe(response: Response | Error): string {
  return response instanceof Error ? response.message : `${response.status}`;
}

function note(text: string): void {
  process.stderr.write(`  ${text}\n`);
}
