// The commands behind the namespace network: ip, iptables, tc, run inside namespaces. Names
// carry the owning runner's pid (fjl<pid>-…), so a run can tell its own namespaces from those
// of a run that is still going and from the leftovers of one that crashed, and remove only the
// latter — with the processes still inside them, which that run started.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
export const namespacePrefix = 'fjl';
const commandTimeoutMs = 15_000;

export async function run(command: string, args: readonly string[], input?: string): Promise<string> {
  if (input === undefined) {
    const { stdout } = await execFileAsync(command, args, { timeout: commandTimeoutMs });
    return stdout;
  }
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: commandTimeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${error.message} ${stderr}`));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

export function inNamespace(
  namespace: string,
  command: string,
  args: readonly string[],
  input?: string,
): Promise<string> {
  return run('ip', ['netns', 'exec', namespace, command, ...args], input);
}

export function listNamespaces(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: commandTimeoutMs })
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[0] ?? '')
      .filter((name) => name !== '');
  } catch {
    return [];
  }
}

export function ownerPid(namespace: string): number | undefined {
  const match = new RegExp(`^${namespacePrefix}(\\d+)-`).exec(namespace);
  return match ? Number(match[1]) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills what still runs in a namespace and deletes it; synchronous, for exit handlers too. */
export function destroyNamespaceSync(namespace: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8', timeout: commandTimeoutMs })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  } catch {
    // No such namespace, or no pids to list.
  }
  try {
    execFileSync('ip', ['netns', 'del', namespace], { timeout: commandTimeoutMs, stdio: 'ignore' });
  } catch {
    // Already deleted.
  }
}

/** Removes the namespaces of runs whose runner is no longer alive; returns their names. */
export function removeLeftoverNamespaces(): string[] {
  const removed: string[] = [];
  for (const namespace of listNamespaces()) {
    const pid = ownerPid(namespace);
    if (pid === undefined || pid === process.pid || isAlive(pid)) continue;
    destroyNamespaceSync(namespace);
    removed.push(namespace);
  }
  return removed;
}

/** Whether this kernel has the netem qdisc (a real delay); probed in a throwaway namespace. */
export async function netemAvailable(namespace: string): Promise<boolean> {
  try {
    await inNamespace(namespace, 'tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    await inNamespace(namespace, 'tc', ['qdisc', 'del', 'dev', 'lo', 'root']);
    return true;
  } catch {
    return false;
  }
}
