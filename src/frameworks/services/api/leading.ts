// A route that answers from the framework's state needs it loaded: a standby (or an instance
// still loading) answers 503 with Marathon's {"message"} (the preHandler proxies most requests
// to the leader before they get here).
import { marathonErrors } from '../api-error.ts';
import type { ServicesFramework } from '../framework.ts';

export function ensureLeading(services: ServicesFramework): void {
  if (!services.leading) throw marathonErrors.notLeading();
}
