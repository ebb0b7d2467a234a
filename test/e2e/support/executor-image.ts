// A throw-away Docker image holding the example framework's executor (examples/executors/
// executor.ts, written with the executor SDK), built by the test itself so CI needs nothing new:
// the executor bundled into one ES module by esbuild, this machine's node binary and the shared
// libraries `ldd` lists for it, imported as a single layer (`docker import`). The tag is a hash of
// what went in, so a second run on the same engine finds the image already there.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { build } from 'esbuild';

const repository = 'flotilla-test-executor';
const executorSource = fileURLToPath(new URL('../../../examples/executors/executor.ts', import.meta.url));
/** Where the image holds them. */
export const executorImagePaths = { node: '/node', executor: '/executor.mjs' } as const;

/** The absolute paths of the libraries the dynamic loader needs for `binary` (the loader included). */
function sharedLibraries(binary: string): string[] {
  const listing = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const paths = [...listing.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((match) => match[1] ?? '');
  return [...new Set(paths.filter((each) => each.startsWith('/')))];
}

async function bundle(directory: string): Promise<string> {
  const outfile = path.join(directory, 'executor.mjs');
  await build({
    entryPoints: [executorSource],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
    // Bundled CommonJS dependencies (pino) call require(); an ES module has none of its own.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return outfile;
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

/**
 * The image's name: node at /node, the executor at /executor.mjs, the libraries at their paths.
 * `directory` is a scratch folder for the bundle and the layout.
 */
export async function buildExecutorImage(docker: Docker, directory: string): Promise<string> {
  const bundled = await bundle(directory);
  const node = process.execPath;
  const libraries = sharedLibraries(node);
  const hash = createHash('sha256')
    .update(readFileSync(bundled))
    .update(`${node}:${statSync(node).size}:${statSync(node).mtimeMs}:${libraries.join(',')}`)
    .digest('hex')
    .slice(0, 16);
  const tag = `${repository}:${hash}`;
  if (await imageExists(docker, tag)) return tag;
  // --dereference: the image gets the files, not the host's symbolic links to them.
  const tar = spawn(
    'tar',
    [
      '-c',
      '--dereference',
      '-f',
      '-',
      '-C',
      '/',
      ...libraries.map((library) => library.slice(1)),
      '--transform',
      `s|^${node.slice(1)}$|node|`,
      node.slice(1),
      '-C',
      directory,
      'executor.mjs',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [repo, version] = tag.split(':');
  const progress = await docker.importImage(tar.stdout, { repo, tag: version });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(progress, (error: Error | null) => (error === null ? resolve() : reject(error))),
  );
  const exitCode = tar.exitCode ?? (await new Promise<number | null>((resolve) => tar.once('exit', resolve)));
  if (exitCode !== 0) throw new Error(`tar exited with ${exitCode} while building ${tag}`);
  if (!(await imageExists(docker, tag))) throw new Error(`the engine did not make ${tag}`);
  return tag;
}
