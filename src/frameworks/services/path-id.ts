// Marathon path ids (PathId.scala): `/team/web`, each segment lowercase letters, digits, hyphens
// and dots, a hyphen never first or last; a relative id is taken from the root. Task ids follow
// Marathon's `<id with "/" as "_">.<uuid>`: segments never hold "_", so the app is recoverable.
import { randomUUID } from 'node:crypto';
import { maxAppIdLength } from './limits.ts';

export type AppId = string & { readonly __brand: 'AppId' };

/** Marathon's segment pattern (ModelValidation / PathId.scala). */
const segmentPattern = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
export const segmentPatternText =
  '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])$';

/** The absolute id, or a sentence saying why `text` is none (for a 422 detail). */
export function parseAppId(text: string): { id: AppId } | { error: string } {
  const trimmed = text.trim();
  const segments = trimmed.split('/').filter((segment) => segment !== '');
  if (segments.length === 0) return { error: 'Path must contain at least one path element' };
  for (const segment of segments) {
    if (segment === '.' || segment === '..') return { error: 'Path must be absolute and contain no . or .. elements' };
    if (!segmentPattern.test(segment)) {
      return { error: `must fully match regular expression '${segmentPatternText}'` };
    }
  }
  const id = `/${segments.join('/')}`;
  if (id.length > maxAppIdLength) return { error: `must be at most ${maxAppIdLength} characters` };
  return { id: id as AppId };
}

export function appIdOf(text: string): AppId {
  const parsed = parseAppId(text);
  if ('error' in parsed) throw new Error(`not an app id: ${text}: ${parsed.error}`);
  return parsed.id;
}

/** `/team/web` → `team_web`: the prefix of its task ids. */
export function taskIdPrefix(appId: AppId): string {
  return appId.slice(1).replaceAll('/', '_');
}

export function newTaskId(appId: AppId): string {
  return `${taskIdPrefix(appId)}.${randomUUID()}`;
}

/** The app a task id names, or null for an id that is not ours. */
export function appIdOfTask(taskId: string): AppId | null {
  const dot = taskId.lastIndexOf('.');
  if (dot <= 0) return null;
  const parsed = parseAppId(`/${taskId.slice(0, dot).replaceAll('_', '/')}`);
  return 'id' in parsed ? parsed.id : null;
}

/** The groups an app id lies in, root first: `/a/b/c` → `/`, `/a`, `/a/b`. */
export function parentGroups(appId: AppId): string[] {
  const segments = appId.slice(1).split('/');
  const groups = ['/'];
  for (let end = 1; end < segments.length; end++) groups.push(`/${segments.slice(0, end).join('/')}`);
  return groups;
}
