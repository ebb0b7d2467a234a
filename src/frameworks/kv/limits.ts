// Bounds of the frameworks' KV client (client.ts) in one place (STYLE.md rule 7), units last.

/** One HTTP attempt at one master. */
export const defaultKvAttemptTimeoutMs = 5_000;
/** All attempts of one call, across masters, redirects and retries; then UNAVAILABLE. */
export const defaultKvRequestDeadlineMs = 30_000;
/** Redirects (307 to the leader) followed within one attempt round. */
export const maxKvRedirects = 5;
/** Back-off between attempts after a 503, a 504 or a network failure (equal jitter). */
export const kvRetryBackoff = { baseMs: 100, maxMs: 2_000 } as const;
/** Keys asked for in one page of a list (the masters answer at most 1,000). */
export const kvListPageKeys = 500;
/**
 * Pages one `listAll` reads at most: 400 pages of up to 500 keys cover the masters' whole store
 * (100,000 keys), so the loop is bounded whatever the masters answer.
 */
export const maxKvListPages = 400;
