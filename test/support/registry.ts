// A real Docker registry for image-pull tests: Debian's docker-registry (the Docker distribution
// registry) on a free loopback port, with its own config and storage in a temporary folder. The
// engine treats 127.0.0.0/8 registries as insecure-allowed by default, so plain HTTP works with
// no daemon flag. `pushTestImage` puts a local image into it and removes the local tag, so a task
// that names it must pull it.
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { freePort } from '../raft/support/process-cluster.ts';
import { stopChild } from './child-exit.ts';
import { makeTempDir } from './tmp.ts';
import { waitFor } from './wait.ts';

export interface Registry {
  /** host:port, the prefix of its image names. */
  readonly address: string;
  stop(): Promise<void>;
}

export async function startRegistry(): Promise<Registry> {
  const folder = makeTempDir('registry-');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const config = path.join(folder, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(folder, 'data')}`,
      'http:',
      `  addr: ${address}`,
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const stop = async (): Promise<void> => {
    await stopChild(child, 'SIGTERM', { timeoutMs: 30_000, what: 'docker-registry' });
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`docker-registry exited: ${output}`);
        const answer = await fetch(`http://${address}/v2/`).catch(() => null);
        return answer?.status === 200;
      },
      { timeoutMs: 30_000, what: `docker-registry on ${address}` },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, stop };
}

async function drain(stream: Readable, what: string): Promise<void> {
  let buffered = '';
  for await (const chunk of stream) buffered += (chunk as Buffer).toString('utf8');
  for (const line of buffered.split('\n')) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as { error?: string };
    if (event.error !== undefined) throw new Error(`${what}: ${event.error}`);
  }
}

/** Tags `image` as `<registry>/<repository>:<tag>`, pushes it, and removes that tag locally. */
export async function pushTestImage(docker: Docker, registry: Registry, image: string, name: string): Promise<string> {
  const repository = `${registry.address}/${name}`;
  const tag = `t${process.pid}`;
  await docker.getImage(image).tag({ repo: repository, tag });
  const reference = `${repository}:${tag}`;
  await drain((await docker.getImage(reference).push({ authconfig: {} })) as Readable, `push ${reference}`);
  await docker.getImage(reference).remove();
  return reference;
}
