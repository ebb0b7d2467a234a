// The allocator's limits in one place (STYLE.md rule 7: a limit on everything, named, units last).

/** Bounds, so a framework cannot grow the leader's memory without limit. */
export const maxFiltersPerFramework = 100_000;

/** Mesos caps refuse_seconds at 365 days (master.cpp, `Duration::max()` guards); so do we. */
export const maxRefuseSeconds = 365 * 24 * 3600;

export const maxFrameworksWithHints = 100_000;

/** Skip reasons kept per framework and cycle: enough to explain, bounded at 1,000 frameworks. */
export const defaultMaxSkipReasonsPerFramework = 32;

/** Past this many changed children a full sort is cheaper than moving each into place. */
export const maxRepositions = 8;

/** A role tree kept across cycles with more entries than this many times the live ones (plus `minEntriesKept`) is built again. */
export const maxLeftOverFactor = 2;
export const minEntriesKept = 64;
