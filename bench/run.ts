// `npm run bench -- <name> [options]`: runs one benchmark from bench/<name>.ts; `--help` prints
// the comment the bench file opens with (its set-up and options) instead of running it.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { usageOf } from './_usage.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.startsWith('_'))
  .map((file) => file.slice(0, -3));
const name = process.argv[2];
if (name === undefined || !available.includes(name)) {
  process.stderr.write(
    `usage: npm run bench -- <name> [options] (--help: a benchmark's options)\nbenchmarks: ${available.join(', ')}\n`,
  );
  process.exit(2);
}
const file = path.join(here, `${name}.ts`);
const options = process.argv.slice(3);
if (options.includes('--help') || options.includes('-h')) {
  process.stdout.write(usageOf(file, name));
  process.exit(0);
}
const module = (await import(pathToFileURL(file).href)) as {
  main: (args: string[]) => Promise<void>;
};
await module.main(options);
