// `npm run bench -- <name> [options]`: runs one benchmark from bench/<name>.ts.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.startsWith('_'))
  .map((file) => file.slice(0, -3));
const name = process.argv[2];
if (name === undefined || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name> [options]\nbenchmarks: ${available.join(', ')}\n`);
  process.exit(2);
}
const module = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as {
  main: (args: string[]) => Promise<void>;
};
await module.main(process.argv.slice(3));
