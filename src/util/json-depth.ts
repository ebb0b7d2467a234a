// A bound on how deeply a JSON body may nest, checked on the text before it is parsed. Parsing
// copes with any depth, but code that walks a parsed body recursively does not: a body of 20,000
// nested objects made JSON.stringify throw RangeError (stack overflow) in the jobs API's size
// check, a 500 for bad input (found by test/e2e/fuzz.test.ts). No API of Flotilla, Mesos, Marathon
// or Metronome nests anywhere near this deep (an ACCEPT with a task group is about a dozen levels).
import type { FastifyInstance } from 'fastify';

/** Arrays and objects inside one another in one JSON body, at most. */
export const maxJsonNestingDepth = 100;

/** Whether `text` opens more than `maxDepth` arrays or objects inside one another (strings skipped). */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c)
        index += 1; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (code === 0x7d || code === 0x5d) depth -= 1;
  }
  return false;
}

/**
 * Replaces an app's JSON body parser with fastify's own (same prototype-poisoning protection,
 * same empty-body error) behind the nesting bound: a deeper body is a 400 (statusCode 400, which
 * every error handler of ours answers as a client error), never parsed.
 */
export function limitJsonNesting(app: FastifyInstance, maxDepth = maxJsonNestingDepth): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonNestsDeeperThan(body as string, maxDepth)) {
      const error = Object.assign(new Error(`the JSON body nests deeper than ${maxDepth} levels`), {
        statusCode: 400,
        code: 'FST_ERR_CTP_JSON_TOO_DEEP',
      });
      done(error, undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
}
