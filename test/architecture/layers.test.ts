// The layers' walls (docs/architecture.md, "The pieces and their layers"), checked on the source:
// every import of every file under src/ is resolved to the folder it reaches, and an arrow that
// points up the stack fails the test with the file and the line. Issue 11's "Done when": no file
// in src/offers or src/agent imports src/http, and in src/master only the edge files that
// docs/architecture.md names do; the names are read from the document, so the map and the code
// cannot drift apart silently.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sourceRoot = path.join(repoRoot, 'src');

/** Folders under src/ a folder must never import (the DESIGN.md table: arrows point down). */
const forbidden: Record<string, readonly string[]> = {
  util: ['protocol', 'raft', 'state-machine', 'offers', 'agent', 'auth', 'http', 'master', 'frameworks', 'cli'],
  protocol: ['raft', 'state-machine', 'offers', 'agent', 'auth', 'http', 'master', 'frameworks', 'cli'],
  raft: ['state-machine', 'offers', 'agent', 'auth', 'http', 'master', 'frameworks', 'cli'],
  'state-machine': ['raft', 'offers', 'agent', 'auth', 'http', 'master', 'frameworks', 'cli'],
  offers: ['raft', 'agent', 'auth', 'http', 'master', 'frameworks', 'cli'],
  auth: ['raft', 'state-machine', 'offers', 'agent', 'http', 'master', 'frameworks', 'cli'],
  agent: ['raft', 'state-machine', 'offers', 'http', 'master', 'frameworks', 'cli'],
  frameworks: ['raft', 'state-machine', 'offers', 'agent', 'auth', 'http', 'master', 'cli'],
  // Only src/cli parses command lines; the daemons it calls know nothing of it.
  master: ['cli'],
  http: ['cli'],
};

interface Import {
  /** Relative to src/, e.g. `master/daemon.ts`. */
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  /** The top folder under src/ it reaches (`http`), or null for a package or a file outside src/. */
  readonly folder: string | null;
}

const importPattern =
  /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const relativeFile = path.relative(sourceRoot, file).split(path.sep).join('/');
  const found: Import[] = [];
  for (const match of text.matchAll(importPattern)) {
    const specifier = (match[1] ?? match[2])!;
    const line = text.slice(0, match.index + match[0].indexOf(specifier)).split('\n').length;
    let folder: string | null = null;
    if (specifier.startsWith('.')) {
      const target = path.relative(sourceRoot, path.resolve(path.dirname(file), specifier));
      folder = target.startsWith('..') ? null : (target.split(path.sep)[0] ?? null);
    }
    found.push({ file: relativeFile, line, specifier, folder });
  }
  return found;
}

const allImports = sourceFiles(sourceRoot).flatMap(importsOf);
const folderOf = (entry: Import): string => entry.file.split('/')[0]!;
const describe = (entry: Import): string => `src/${entry.file}:${entry.line} imports '${entry.specifier}'`;

/** The master's edge files, as docs/architecture.md names them: "only `a.ts` (and `b.ts`) import(s) `src/http`". */
function edgeFilesNamedByTheMap(): string[] {
  const map = readFileSync(path.join(repoRoot, 'docs/architecture.md'), 'utf8');
  const row = map.split('\n').find((line) => line.startsWith('| `src/master/` |'));
  assert.ok(row, 'docs/architecture.md has the src/master row of the layers table');
  const sentence = /\*\*only ((?:`[^`]+`(?:, | and )?)+) imports? `src\/http`/.exec(row);
  assert.ok(sentence, 'the src/master row names the edge files: **only `file.ts` imports `src/http`**');
  return [...sentence[1]!.matchAll(/`([^`]+)`/g)].map((match) => `master/${match[1]}`);
}

test('the import scanner sees imports: the known edge import and the files of every layer', () => {
  assert.ok(allImports.length > 1_000, `${allImports.length} imports found`);
  const daemonImportsHttp = allImports.some((entry) => entry.file === 'master/daemon.ts' && entry.folder === 'http');
  assert.ok(daemonImportsHttp, 'master/daemon.ts builds the HTTP server from src/http');
  for (const folder of Object.keys(forbidden)) {
    assert.ok(
      allImports.some((entry) => folderOf(entry) === folder),
      `src/${folder} has files with imports`,
    );
  }
});

test('no layer imports a layer above it', () => {
  const violations = allImports
    .filter((entry) => entry.folder !== null && (forbidden[folderOf(entry)] ?? []).includes(entry.folder))
    .map(describe);
  assert.equal(violations, []);
});

test('src/offers and src/agent import nothing of src/http; in src/master only the edge files the map names', () => {
  const edgeFiles = edgeFilesNamedByTheMap();
  for (const file of edgeFiles) {
    assert.ok(
      allImports.some((entry) => entry.file === file),
      `${file}, named by docs/architecture.md, exists`,
    );
  }
  const outside = allImports.filter((entry) => entry.folder === 'http' && folderOf(entry) !== 'http');
  assert.equal(outside.filter((entry) => ['offers', 'agent'].includes(folderOf(entry))).map(describe), []);
  assert.equal(outside.filter((entry) => !edgeFiles.includes(entry.file)).map(describe), []);
});

test.run();
