// The `flotilla` command's limits in one place (STYLE.md rule 7: a limit on everything, named, units last).

/** A follower points at the leader in one hop; a few more cover an election in between. */
export const maxRedirects = 5;

/** Rounds over the masters (a round ends at the first master that answers, or after all were tried). */
export const maxAttempts = 6;

/** Rounds in a row in which no master accepted a connection, after which the cluster counts as down. */
export const maxUnreachableRounds = 2;

/** Operator answers are small except GET_STATE/GET_TASKS of a big cluster; beyond this is a bug or an attack. */
export const maxAnswerBytes = 64 * 1024 * 1024;

/** The SUBSCRIBED record holds the whole state: as large as GET_STATE may be. */
export const maxEventBytes = 64 * 1024 * 1024;

/** Reads per file per poll: bounds how long one poll can take on a task that writes fast. */
export const maxReadsPerPoll = 16;

/** Reads in one drain: 1,024 × 256 KiB; a file growing faster than that is read on the next poll. */
export const maxReadsPerDrain = 1_024;

export const maxTimeoutSeconds = 3_600;

/** A backup file is the whole state: as large as a snapshot may grow, with room to spare. */
export const maxBackupBytes = 1024 * 1024 * 1024;

/** Capturing and sending a big state takes a while: the whole download may take this long. */
export const backupDownloadTimeoutMs = 10 * 60 * 1000;

/** A --secret-file holds one secret: anything longer is the wrong file (a key, a log), not read. */
export const maxSecretFileBytes = 4_096;
