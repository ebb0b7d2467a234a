// Turning a request body into app specs: a create takes the body as it is; a partial update
// (PUT with partialUpdate, the default, and PATCH) lays the body over the app's current
// definition, as Marathon's AppUpdate does, so fields left out keep their values.
import type { AppDefinition } from '../app-definition.ts';
import { type AppSpec, parseApp } from '../app-parse.ts';
import { marathonErrors } from '../api-error.ts';
import type { AppId } from '../path-id.ts';
import { isObject, type Json } from '../validation.ts';
import { appDefinitionJson } from '../views.ts';

export function specFromBody(body: unknown, role: string, pathId?: AppId): AppSpec {
  const outcome = parseApp(body, { role, ...(pathId === undefined ? {} : { pathId }) });
  if (!outcome.ok) throw marathonErrors.invalid(outcome.details, outcome.typeError);
  return outcome.spec;
}

/** The body laid over `current` (the body's id is ignored: the app keeps its id). */
export function mergedSpec(current: AppDefinition, body: unknown, role: string): AppSpec {
  if (!isObject(body)) throw marathonErrors.invalid([{ path: '/', errors: ['error.expected.jsobject'] }], true);
  const base: Json = { ...appDefinitionJson(current) };
  delete base.version;
  delete base.versionInfo;
  if ('ports' in body) delete base.portDefinitions;
  else delete base.ports;
  if ('cmd' in body) base.args = null;
  if ('args' in body) base.cmd = null;
  if ('container' in body || 'networks' in body) delete base.networks;
  const merged = { ...base, ...body, id: current.id };
  return specFromBody(merged, role, current.id);
}

export function bodyList(body: unknown): unknown[] {
  if (!Array.isArray(body)) throw marathonErrors.invalid([{ path: '/', errors: ['error.expected.jsarray'] }], true);
  return body;
}
