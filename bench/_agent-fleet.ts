// Simulated agents in child processes (bench/_agent-fleet-process.ts), split evenly: the parent
// starts them, waits until every agent registered, and can ask when every agent registered again
// after a mark (a leader's SIGKILL, say). Children end when their stdin closes, or by pid.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const entry = path.join(path.dirname(fileURLToPath(import.meta.url)), '_agent-fleet-process.ts');

interface FleetMessage {
  readonly type: 'registered' | 'reregistered' | 'stats';
  readonly count?: number;
  readonly atMs?: number;
  readonly launches?: number;
  readonly tasks?: number;
  readonly finished?: number;
  readonly registrations?: number;
  readonly kills?: number;
  readonly killCauses?: Readonly<Record<string, number>>;
  readonly dials?: number;
  readonly handshakeTimeouts?: number;
  readonly redirects?: number;
  readonly cpuMs?: number;
  readonly closes?: Readonly<Record<string, number>>;
  readonly notReregistered?: Readonly<Record<string, number>>;
  readonly mostDialsSinceMark?: number;
  readonly mostRegistrationsSinceMark?: number;
  readonly eventLoopDelayMaxMs?: number;
  readonly timeline?: Readonly<Record<keyof FailoverTimeline, (number | null)[]>>;
}

/** Every agent's wall-clock times (Date.now) since a mark, over the whole fleet (bench/scale.ts prints them). */
export interface FailoverTimeline {
  /** Its first dial after the mark, to whichever master. */
  readonly firstDialAtMs: number[];
  /** The dial of the socket it registered on (the new leader's). */
  readonly leaderDialAtMs: number[];
  /** That socket open: `register` sent. */
  readonly registerSentAtMs: number[];
  /** `registered` received. */
  readonly registeredAtMs: number[];
}

export interface FleetStats {
  readonly launches: number;
  readonly tasks: number;
  readonly finished: number;
  /** Every agent's registrations, the first included: more than the agents means reconnections. */
  readonly registrations: number;
  readonly kills: number;
  /** Kill messages by the master's stated cause. */
  readonly killCauses: Readonly<Record<string, number>>;
  /** Sockets opened, not_leader redirects included. */
  readonly dials: number;
  /** Dials given up at the handshake limit: the master took the connection and did not answer in time. */
  readonly handshakeTimeouts: number;
  /** Dials answered without a socket or registration: a follower's 307 or not_leader, another HTTP refusal. */
  readonly redirects: number;
  /** The fleet processes' own CPU time (user + system) since they started, summed: whether the agents' side is the limit. */
  readonly cpuMs: number;
  /** Sockets closed, by cause (`registered|unregistered <close code> <reason>`). */
  readonly closes: Readonly<Record<string, number>>;
  /** The agents not registered again since the last mark, by where they stand (empty without a mark). */
  readonly notReregistered: Readonly<Record<string, number>>;
  /** The most sockets any one agent opened since the last mark (0 before a mark). */
  readonly mostDialsSinceMark: number;
  /** The most registrations any one agent made since the last mark (0 before a mark). */
  readonly mostRegistrationsSinceMark: number;
  /** The most any fleet process's own event loop was held up. */
  readonly eventLoopDelayMaxMs: number;
}

class FleetChild {
  readonly #waiters = new Map<FleetMessage['type'], (message: FleetMessage) => void>();
  readonly #early = new Map<FleetMessage['type'], FleetMessage>();
  #errorOutput = '';

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const message = JSON.parse(line) as FleetMessage;
      const waiter = this.#waiters.get(message.type);
      this.#waiters.delete(message.type);
      if (waiter === undefined) this.#early.set(message.type, message);
      else waiter(message);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.#errorOutput = (this.#errorOutput + chunk.toString('utf8')).slice(-4_000);
    });
  }

  next(type: FleetMessage['type'], timeoutMs: number): Promise<FleetMessage> {
    const early = this.#early.get(type);
    this.#early.delete(type);
    if (early !== undefined) return Promise.resolve(early);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(type);
        reject(new Error(`agent fleet: no ${type} within ${timeoutMs} ms; stderr: ${this.#errorOutput}`));
      }, timeoutMs);
      const exited = (): void => reject(new Error(`agent fleet exited; stderr: ${this.#errorOutput}`));
      this.child.once('exit', exited);
      this.#waiters.set(type, (message) => {
        clearTimeout(timer);
        this.child.off('exit', exited);
        resolve(message);
      });
    });
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }
}

export class AgentFleet {
  private constructor(readonly children: readonly FleetChild[]) {}

  /** Starts `agents` simulated agents in `processes` children; resolves once every one registered. */
  static async start(
    masters: readonly string[],
    agents: number,
    processes: number,
    timeoutMs: number,
    resources: { readonly cpus: number; readonly memMb: number },
    /** Every launch reported TASK_RUNNING and then TASK_FINISHED at once (default: runs until killed). */
    finishAtOnce = false,
  ): Promise<AgentFleet> {
    const children: FleetChild[] = [];
    let first = 0;
    for (let index = 0; index < processes; index++) {
      const count = Math.floor(agents / processes) + (index < agents % processes ? 1 : 0);
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          entry,
          ...['--masters', masters.join(','), '--first', String(first), '--count', String(count)],
          ...['--cpus', String(resources.cpus), '--mem', String(resources.memMb)],
          ...(finishAtOnce ? ['--finish-at-once'] : []),
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      children.push(new FleetChild(child));
      first += count;
    }
    const fleet = new AgentFleet(children);
    try {
      await Promise.all(children.map((child) => child.next('registered', timeoutMs)));
    } catch (error) {
      await fleet.stop();
      throw error;
    }
    return fleet;
  }

  /** From now on, count registrations afresh. */
  mark(): void {
    for (const child of this.children) child.send('mark');
  }

  /** The wall clock (Date.now) at which the last agent registered again since the mark, and every agent's timeline. */
  async reregistered(timeoutMs: number): Promise<{ atMs: number; timeline: FailoverTimeline }> {
    const answers = await Promise.all(this.children.map((child) => child.next('reregistered', timeoutMs)));
    const merged = (key: keyof FailoverTimeline): number[] =>
      answers.flatMap((answer) => (answer.timeline?.[key] ?? []).filter((each): each is number => each !== null));
    return {
      atMs: Math.max(...answers.map((answer) => answer.atMs ?? Number.NaN)),
      timeline: {
        firstDialAtMs: merged('firstDialAtMs'),
        leaderDialAtMs: merged('leaderDialAtMs'),
        registerSentAtMs: merged('registerSentAtMs'),
        registeredAtMs: merged('registeredAtMs'),
      },
    };
  }

  /** Launch messages received, tasks held and tasks reported finished, over every agent, and more (FleetStats). */
  async stats(timeoutMs = 30_000): Promise<FleetStats> {
    const answers = await Promise.all(
      this.children.map((child) => {
        const answer = child.next('stats', timeoutMs);
        child.send('stats');
        return answer;
      }),
    );
    const sum = (
      field:
        | 'launches'
        | 'tasks'
        | 'finished'
        | 'registrations'
        | 'kills'
        | 'dials'
        | 'handshakeTimeouts'
        | 'redirects'
        | 'cpuMs',
    ): number => answers.reduce((total, answer) => total + (answer[field] ?? 0), 0);
    const closes: Record<string, number> = {};
    for (const answer of answers)
      for (const [cause, count] of Object.entries(answer.closes ?? {})) closes[cause] = (closes[cause] ?? 0) + count;
    const notReregistered: Record<string, number> = {};
    for (const answer of answers)
      for (const [state, count] of Object.entries(answer.notReregistered ?? {}))
        notReregistered[state] = (notReregistered[state] ?? 0) + count;
    const killCauses: Record<string, number> = {};
    for (const answer of answers)
      for (const [cause, count] of Object.entries(answer.killCauses ?? {}))
        killCauses[cause] = (killCauses[cause] ?? 0) + count;
    return {
      launches: sum('launches'),
      tasks: sum('tasks'),
      finished: sum('finished'),
      registrations: sum('registrations'),
      kills: sum('kills'),
      killCauses,
      dials: sum('dials'),
      handshakeTimeouts: sum('handshakeTimeouts'),
      redirects: sum('redirects'),
      cpuMs: sum('cpuMs'),
      closes,
      notReregistered,
      mostDialsSinceMark: Math.max(0, ...answers.map((answer) => answer.mostDialsSinceMark ?? 0)),
      mostRegistrationsSinceMark: Math.max(0, ...answers.map((answer) => answer.mostRegistrationsSinceMark ?? 0)),
      eventLoopDelayMaxMs: Math.max(0, ...answers.map((answer) => answer.eventLoopDelayMaxMs ?? 0)),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  }
}
