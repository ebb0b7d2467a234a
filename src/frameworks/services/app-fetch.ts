// Marathon's `fetch` ([{uri, executable, extract, cache, outputFile}], FetchUri) and its legacy
// `uris` (a list of strings) → the app's fetch list, and that list → CommandInfo.uris, which the
// agent fetches into each task's sandbox. Defaults are Marathon's and Mesos': executable false,
// extract true, cache false (cache is passed on; Flotilla's agent has no cache and ignores it).
// A URI the agent could not fetch (src/protocol/command-uris.ts) is a 422 naming it here, rather
// than a launch the master would refuse over and over.
import { maxCommandUris, outputFileProblem, uriValueProblem } from '../../protocol/command-uris.ts';
import type { CommandInfoUri } from '../../protocol/mesos.ts';
import {
  isObject,
  type Json,
  type Problems,
  readArray,
  readBoolean,
  readString,
  readStringList,
} from './validation.ts';

/** One entry of an app's `fetch`, as Marathon answers it. */
export interface FetchUri {
  readonly uri: string;
  readonly executable: boolean;
  readonly extract: boolean;
  readonly cache: boolean;
  readonly outputFile?: string;
}

function readFetchUri(item: unknown, path: string, problems: Problems): FetchUri | null {
  if (!isObject(item)) {
    problems.wrongType(path, 'jsobject');
    return null;
  }
  const uri = readString(item, 'uri', path, problems);
  const outputFile = readString(item, 'outputFile', path, problems) ?? undefined;
  const fetched: FetchUri = {
    uri: uri ?? '',
    executable: readBoolean(item, 'executable', path, problems) ?? false,
    extract: readBoolean(item, 'extract', path, problems) ?? true,
    cache: readBoolean(item, 'cache', path, problems) ?? false,
    ...(outputFile === undefined ? {} : { outputFile }),
  };
  const uriProblem = uriValueProblem(fetched.uri);
  if (uriProblem !== null) problems.add(`${path}/uri`, `the URI ${uriProblem}`);
  const outputProblem = outputFile === undefined ? null : outputFileProblem(outputFile);
  if (outputProblem !== null) problems.add(`${path}/outputFile`, `the output file ${outputProblem}`);
  return fetched;
}

/** `fetch`, or the legacy `uris` (each extracted if it is an archive, as Marathon converts them); not both. */
export function readFetch(input: Json, problems: Problems): { uris: string[]; fetch: FetchUri[] } {
  const uris = readStringList(input, 'uris', '', problems, maxCommandUris) ?? [];
  const list = readArray(input, 'fetch', '', problems, maxCommandUris) ?? [];
  if (uris.length > 0 && list.length > 0) {
    problems.add('/fetch', 'only one of uris or fetch may be given');
    return { uris, fetch: [] };
  }
  if (uris.length > 0) {
    const fetch = uris.map((uri, index) => readFetchUri({ uri }, `/uris(${index})`, problems));
    return { uris, fetch: fetch.filter((item): item is FetchUri => item !== null) };
  }
  const fetch = list.map((item, index) => readFetchUri(item, `/fetch(${index})`, problems));
  return { uris: [], fetch: fetch.filter((item): item is FetchUri => item !== null) };
}

/** The app's fetch list as mesos.proto CommandInfo.uris. */
export function commandInfoUris(fetch: readonly FetchUri[]): CommandInfoUri[] {
  return fetch.map((item) => ({
    value: item.uri,
    executable: item.executable,
    extract: item.extract,
    cache: item.cache,
    ...(item.outputFile === undefined ? {} : { output_file: item.outputFile }),
  }));
}
