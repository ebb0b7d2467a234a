// Cutting one local master off the network with iptables (root only), as a real partition
// would: every packet to its port is dropped (peers' connections and dials, clients), and every
// packet it sends is dropped too. A master also dials the peers whose ids sort higher, from
// ports nobody can predict, so its own packets are matched two ways: by the local ports of the
// connections it has now (from ss), and by its cgroup (v2) for the ones it opens later — the
// cgroup match sees the cgroup a socket was created in, so it misses sockets opened before
// the move. Each rule carries a comment, so `heal` finds them even if the state file is gone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const ruleComment = 'flotilla-partition';
const cgroupName = 'flotilla-partition';

export function iptablesUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'iptables needs root: run as root (sudo), or rehearse partitions with `npm run jepsen -- --nemesis partition`, whose userspace proxy needs no privileges';
  try {
    execFileSync('iptables', ['-S', 'OUTPUT'], { stdio: 'ignore', timeout: 5_000 });
  } catch {
    return 'iptables is not installed or does not work here (apt-get install iptables)';
  }
  return undefined;
}

function iptables(args: readonly string[]): void {
  execFileSync('iptables', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000 });
}

/** Where cgroup v2 is mounted, if it is. */
function cgroupRoot(): string | null {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n');
  for (const line of mounts) {
    const [, mountPoint, type] = line.split(' ');
    if (type === 'cgroup2' && mountPoint !== undefined) return mountPoint;
  }
  return null;
}

export interface Isolation {
  readonly pid: number;
  readonly port: number;
  /** False when the master's own dials could not be matched (no cgroup v2): they still pass. */
  readonly outgoingBlocked: boolean;
  readonly rules: readonly string[];
}

export function isolate(pid: number, port: number): Isolation {
  const rules: string[] = [];
  const input = [
    'INPUT',
    '-p',
    'tcp',
    '--dport',
    String(port),
    '-m',
    'comment',
    '--comment',
    ruleComment,
    '-j',
    'DROP',
  ];
  iptables(['-I', ...input]);
  rules.push(input.join(' '));
  for (const localPort of establishedLocalPorts(pid)) {
    if (localPort === port) continue;
    const existing = [
      'OUTPUT',
      '-p',
      'tcp',
      '--sport',
      String(localPort),
      '-m',
      'comment',
      '--comment',
      ruleComment,
      '-j',
      'DROP',
    ];
    iptables(['-I', ...existing]);
    rules.push(existing.join(' '));
  }
  const root = cgroupRoot();
  let outgoingBlocked = false;
  if (root !== null) {
    const group = path.join(root, cgroupName);
    if (!existsSync(group)) mkdirSync(group);
    writeFileSync(path.join(group, 'cgroup.procs'), String(pid));
    const output = [
      'OUTPUT',
      '-m',
      'cgroup',
      '--path',
      cgroupName,
      '-m',
      'comment',
      '--comment',
      ruleComment,
      '-j',
      'DROP',
    ];
    iptables(['-I', ...output]);
    rules.push(output.join(' '));
    outgoingBlocked = true;
  }
  return { pid, port, outgoingBlocked, rules };
}

/** Local ports of the established TCP connections that `pid` holds. */
function establishedLocalPorts(pid: number): number[] {
  let output = '';
  try {
    output = execFileSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8', timeout: 5_000 });
  } catch {
    return [];
  }
  const ports = new Set<number>();
  for (const line of output.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    // Recv-Q Send-Q Local:Port Peer:Port users:(…)
    const local = line.trim().split(/\s+/)[2];
    const port = local === undefined ? NaN : Number(local.slice(local.lastIndexOf(':') + 1));
    if (Number.isInteger(port)) ports.add(port);
  }
  return [...ports];
}

/** Removes every rule with our comment and puts processes back in the root cgroup. */
export function healIsolation(): string[] {
  const removed: string[] = [];
  for (const chain of ['INPUT', 'OUTPUT']) {
    const lines = execFileSync('iptables', ['-S', chain], { encoding: 'utf8', timeout: 5_000 }).split('\n');
    for (const line of lines) {
      if (!line.startsWith(`-A ${chain} `) || !line.includes(ruleComment)) continue;
      const args = line
        .slice(3)
        .match(/"[^"]*"|\S+/g)!
        .map((part) => part.replace(/^"(.*)"$/, '$1'));
      iptables(['-D', ...args]);
      removed.push(line);
    }
  }
  const root = cgroupRoot();
  const group = root === null ? null : path.join(root, cgroupName);
  if (root !== null && group !== null && existsSync(group)) {
    for (const pid of readFileSync(path.join(group, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')) {
      writeFileSync(path.join(root, 'cgroup.procs'), pid);
    }
    rmdirSync(group);
  }
  return removed;
}
