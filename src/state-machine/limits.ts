// Every bound of the state machine in one place (STYLE.md rule 7). The command decoder enforces
// the per-command ones, so a command that passes decoding is bounded; apply enforces the
// whole-state ones (the key-value store size) with a rejection code, deterministically.

/** One encoded command; Raft bounds its entries too, this keeps a single command sane. */
export const maxCommandBytes = 1024 * 1024;
/** Agent, framework, task and offer ids (Mesos has no hard limit; 255 is its practical one). */
export const maxIdLength = 255;
export const maxNameLength = 255;
export const maxRoleLength = 255;
export const maxHostnameLength = 255;
/** Status messages, command lines, health check paths. */
export const maxTextLength = 4096;
export const maxResourcesPerList = 64;
export const maxRangesPerResource = 1024;
/** Scalars are kept in thousandths (as Mesos does); 10^12 units keeps every sum a safe integer. */
export const maxScalarValue = 1e12;
export const maxAttributes = 64;
export const maxLabels = 64;
export const maxEnvironmentVariables = 256;
export const maxArguments = 256;
export const maxRolesPerFramework = 64;
/** Docker port mappings, volumes and `docker run` parameters of one task. */
export const maxPortMappings = 64;
export const maxVolumes = 64;
export const maxDockerParameters = 64;
/** A volume's host or container path. */
export const maxPathLength = 1024;
/** A Unix user name (useradd allows 32; NSS sources allow more). */
export const maxUserNameLength = 64;
export const maxOffersPerCommand = 1000;
export const maxOfferIdsPerCommand = 1000;
export const maxOperationsPerAccept = 64;
export const maxTasksPerLaunch = 256;
/** TaskInfo.data, decoded bytes: it is replicated with the task (Mesos sets no bound; the Raft log needs one). */
export const maxTaskDataBytes = 16 * 1024;
/** TaskStatus.data, decoded bytes: every status in a task's history may carry some. */
export const maxStatusDataBytes = 4 * 1024;
/** Base64 characters of `bytes` bytes. */
export const base64Length = (bytes: number): number => Math.ceil(bytes / 3) * 4;
/**
 * Items of one task_status_batch. The leader also closes a batch before its encoded size could
 * pass maxCommandBytes (src/master/status-batcher.ts), so a batch of large statuses is shorter.
 */
export const maxTaskStatusBatchItems = 512;
/**
 * Items of one agent_registration_batch. The leader also closes a batch before its encoded size
 * could pass maxCommandBytes (src/master/registration-batcher.ts): agents reporting many tasks
 * make shorter batches.
 */
export const maxAgentRegistrationBatchItems = 256;
/** Tasks an agent reports when it re-registers. */
export const maxReportedTasks = 100_000;
/** Status updates kept per task; older ones are dropped (the state is in the newest). */
export const maxStatusHistory = 16;
export const maxQuotaConfigsPerCommand = 1000;
export const maxWeightsPerCommand = 1000;
export const maxMaintenanceWindows = 1000;
export const maxMachinesPerWindow = 1000;
export const maxMachinesPerCommand = 1000;
export const maxKvNamespaceLength = 128;
export const maxKvKeyLength = 512;
/** UTF-8 bytes of one value. */
export const maxKvValueBytes = 64 * 1024;
/** Keys across all namespaces; a put beyond this is rejected with KV_LIMIT_EXCEEDED. */
export const maxKvEntries = 100_000;
/** Event-loop time one slice of the background snapshot writer may hold (machine.ts beginSnapshot). */
export const snapshotSliceBudgetMs = 10;
/**
 * Rows from which the background snapshot writer builds its database in the worker thread
 * (snapshot-worker.ts) rather than on the event loop. Below, serialising takes a few ms and the
 * worker's thread and messages cost more: with it at 2,000 tasks (3 MB), `scale --quick` wrote its
 * snapshots 2-4x slower and its leader's event-loop maximum was no lower (load 15-27).
 */
export const snapshotWorkerMinimumRows = 20_000;
/** Change listeners on one machine (operator SUBSCRIBE streams share one listener each). */
export const maxChangeListeners = 1024;
/** Timestamps in commands are milliseconds since the epoch; this is the year 2286. */
export const maxTimestampMs = 9_999_999_999_999;
/** Durations (failover timeouts, maintenance windows, health check intervals): 10 years. */
export const maxDurationMs = 10 * 365 * 24 * 60 * 60 * 1000;

/** The ceiling of a count in update_history_limits (completed frameworks, tasks per framework, removed agents). */
export const maxHistoryCount = 100_000_000;

/** Reservation and volume operations kept for GET_OPERATIONS (the oldest are forgotten first). */
export const maxOperations = 1000;

/** Default and ceiling of a list query's `limit`: a single answer stays a bounded size. */
export const defaultQueryLimit = 1000;

export const maxQueryLimit = 100_000;

/** State is shallow (entity → info → list → record); this bounds the recursion. */
export const maxCanonicalJsonDepth = 32;

/**
 * Agent writes the allocation book's journal keeps (allocation-book.ts): a leader's allocation
 * cycles read it every few milliseconds, so this is far more than one cycle's writes; a reader
 * that fell further behind looks at every agent once.
 */
export const maxAgentJournalLength = 65_536;
