// One health check attempt of each kind. HTTP: GET http://127.0.0.1:<port><path>, healthy on
// 200–399 as Mesos; TCP: a connection to 127.0.0.1:<port> is accepted; COMMAND: the command
// exits 0 where the task runs. Each resolves (never rejects) with ok and a detail.
import http from 'node:http';
import net from 'node:net';
import type { RunningContainer } from '../containerizer/types.ts';

export interface ProbeOutcome {
  readonly ok: boolean;
  readonly detail: string;
}

const checkHost = '127.0.0.1';

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function probeHttp(port: number, path: string, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const request = http.get({ host: checkHost, port, path, timeout: timeoutMs, agent: false }, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve({ ok: status >= 200 && status < 400, detail: `HTTP GET ${path} on port ${port} answered ${status}` });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) =>
      resolve({ ok: false, detail: `HTTP GET ${path} on port ${port} failed: ${describe(error)}` }),
    );
  });
}

export function probeTcp(port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: checkHost, port });
    const finish = (outcome: ProbeOutcome): void => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () =>
      finish({ ok: false, detail: `TCP connect to port ${port}: no answer within ${timeoutMs} ms` }),
    );
    socket.once('connect', () => finish({ ok: true, detail: `TCP connect to port ${port} succeeded` }));
    socket.once('error', (error) =>
      finish({ ok: false, detail: `TCP connect to port ${port} failed: ${describe(error)}` }),
    );
  });
}

export async function probeCommand(
  container: Pick<RunningContainer, 'runCheckCommand'>,
  command: string,
  timeoutMs: number,
): Promise<ProbeOutcome> {
  try {
    const code = await container.runCheckCommand(command, timeoutMs);
    return { ok: code === 0, detail: `command exited with ${code}` };
  } catch (error) {
    return { ok: false, detail: `command failed: ${describe(error)}` };
  }
}
