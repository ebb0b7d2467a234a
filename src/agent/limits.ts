// The agent's limits in one place (STYLE.md rule 7: a limit on everything, named, units last).

/** One READ_FILE answers at most this many bytes; a client pages with offset for more. */
export const maxReadLengthBytes = 4 * 1024 * 1024;

export const maxPathChars = 4_096;

export const maxListedEntries = 10_000;

/** Ports listed in PORT0… at most; a task with more still gets them all in PORTS. */
export const maxPortVariables = 128;

export const maxBodyBytes = 64 * 1024;

/** Terminal tasks kept (so a launch repeated by a new leader is recognised and ignored), newest first. */
export const maxTerminalTasksKept = 1000;

export const maxNameTaskChars = 40;

/** A pull that takes longer than this fails the launch (a stuck registry must not hold a task forever). */
export const maxPullMs = 10 * 60 * 1000;

/** How long a task user's lookup (getent, id) is reused for later launches (task-user.ts). */
export const userLookupCacheMs = 30_000;
/** Distinct task users whose lookups are kept at once. */
export const maxCachedUsers = 1024;

/** A fetched URI larger than this fails the launch (Content-Length, else as it streams in). */
export const maxFetchBytes = 2 * 1024 * 1024 * 1024;
/** One URI's download (headers and body) taking longer fails the launch: a stuck server must not hold a task. */
export const maxFetchMs = 10 * 60 * 1000;
/** One copy (cp) or extraction (tar, unzip) taking longer fails the launch. */
export const maxFetchCommandMs = 10 * 60 * 1000;
/** What a failed cp, tar or unzip said, kept for the failure message. */
export const maxFetchCommandOutputChars = 2_000;
