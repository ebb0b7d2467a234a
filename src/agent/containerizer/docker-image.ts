// Making sure the engine has a task's image, as Mesos' docker containerizer does: pull it when
// the engine lacks it, and always when the task sets force_pull_image. The engine reports a pull
// as JSON lines (one per layer event); they are summed into one line of progress for the task's
// TASK_STARTING message, and a line with `error` fails the launch with the registry's words.
import { maxPullMs } from '../limits.ts';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { Logger } from '../../util/logger.ts';
import { engineMessage, engineStatus } from './docker-client.ts';
import { ContainerLaunchError, type LaunchProgress } from './types.ts';

const bytesPerMegabyte = 1024 * 1024;

interface PullEvent {
  readonly id?: string;
  readonly status?: string;
  readonly progressDetail?: { readonly current?: number; readonly total?: number };
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
}

/** Per layer, the latest byte counts and whether it is done; summed into one line. */
class PullTally {
  readonly #layers = new Map<string, { current: number; total: number; done: boolean }>();

  add(event: PullEvent): void {
    if (event.id === undefined || event.status === undefined || event.id.includes(':')) return;
    const layer = this.#layers.get(event.id) ?? { current: 0, total: 0, done: false };
    const detail = event.progressDetail;
    if (event.status === 'Downloading' && detail?.total !== undefined) {
      layer.current = detail.current ?? layer.current;
      layer.total = detail.total;
    }
    if (/^(Pull complete|Already exists|Download complete)$/.test(event.status)) {
      layer.done = event.status !== 'Download complete' || layer.done;
      layer.current = layer.total;
    }
    this.#layers.set(event.id, layer);
  }

  summary(image: string): string {
    const layers = [...this.#layers.values()];
    if (layers.length === 0) return `pulling image ${image}`;
    const megabytes = (bytes: number): string => (bytes / bytesPerMegabyte).toFixed(1);
    const current = layers.reduce((sum, layer) => sum + layer.current, 0);
    const total = layers.reduce((sum, layer) => sum + layer.total, 0);
    const done = layers.filter((layer) => layer.done).length;
    return `pulling image ${image}: ${done} of ${layers.length} layers, ${megabytes(current)} of ${megabytes(total)} MB`;
  }
}

function pullFailure(image: string, why: string): ContainerLaunchError {
  return new ContainerLaunchError(`could not pull image "${image}": ${why}`);
}

/** Reads the engine's JSON lines until the stream ends; rejects on an `error` line or after maxPullMs. */
function followPull(stream: Readable, image: string, onEvent: (event: PullEvent) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const finish = (error: Error | null): void => {
      clearTimeout(timer);
      stream.removeAllListeners('data');
      if (error === null) resolve();
      else {
        stream.destroy();
        reject(error);
      }
    };
    const timer = setTimeout(() => finish(pullFailure(image, `no end within ${maxPullMs / 1000} s`)), maxPullMs);
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        let event: PullEvent;
        try {
          event = JSON.parse(line) as PullEvent;
        } catch {
          continue; // Not an event; the engine's own summary lines are JSON, anything else is noise.
        }
        if (event.error !== undefined) return finish(pullFailure(image, event.errorDetail?.message ?? event.error));
        onEvent(event);
      }
    });
    stream.once('error', (error: Error) => finish(pullFailure(image, error.message)));
    stream.once('end', () => finish(null));
    stream.once('close', () => finish(null));
  });
}

async function engineHasImage(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if (engineStatus(error) === 404) return false;
    throw new ContainerLaunchError(`the Docker engine could not look up image "${image}": ${engineMessage(error)}`);
  }
}

/** Pulls `image` unless the engine has it and `forcePull` is false. */
export async function ensureImage(
  docker: Docker,
  image: string,
  forcePull: boolean,
  progress: LaunchProgress,
  logger: Logger,
): Promise<void> {
  if (!forcePull && (await engineHasImage(docker, image))) return;
  const startedMs = Date.now();
  const tally = new PullTally();
  progress(`pulling image ${image}${forcePull ? ' (force_pull_image)' : ''}`);
  logger.info({ event: 'image_pull_started', image, forcePull }, 'pulling image');
  let stream: Readable;
  try {
    stream = (await docker.pull(image)) as Readable;
  } catch (error) {
    throw pullFailure(image, engineMessage(error));
  }
  await followPull(stream, image, (event) => {
    tally.add(event);
    progress(tally.summary(image));
  });
  if (!(await engineHasImage(docker, image))) throw pullFailure(image, 'the engine has no such image after the pull');
  logger.info({ event: 'image_pulled', image, ms: Date.now() - startedMs }, 'image pulled');
}
