// The wire's limits in one place (STYLE.md rule 7: a limit on everything, named, units last).

/** Bounds of the wire (STYLE.md rule 7). */
export const agentProtocolLimits = {
  maxFrameBytes: 4 * 1024 * 1024,
  maxIdLength: 255,
  maxTextLength: 4096,
  maxResources: 64,
  maxRanges: 1024,
  maxAttributes: 64,
  maxMasters: 16,
  maxReportedTasks: 100_000,
  maxUsageEntries: 100_000,
  maxEnvironmentVariables: 256,
  maxArguments: 256,
  maxLabels: 64,
  maxPortMappings: 64,
  maxVolumes: 64,
  maxDockerParameters: 64,
  maxPathLength: 1024,
  /** Persistent volumes one agent holds (the `volumes` message lists them all). */
  maxPersistentVolumes: 10_000,
} as const;

/** Bounds of the executor API (executor.ts). */
export const executorApiLimits = {
  maxIdLength: 255,
  maxTextLength: 4096,
  /** TaskStatus.data, decoded bytes: the state machine's maxStatusDataBytes (it is replicated). */
  maxStatusDataBytes: 4 * 1024,
  /** TaskStatus.timestamp, seconds since the epoch: the state machine's maxTimestampMs (it is replicated). */
  maxTimestampSeconds: 9_999_999_999,
  /** A framework message either way (scheduler ↔ executor), decoded bytes; Mesos sets no bound. */
  maxMessageBytes: 64 * 1024,
  /** Unacknowledged tasks or updates one SUBSCRIBE may list. */
  maxUnacknowledged: 10_000,
  /** One call's body (a SUBSCRIBE lists whole TaskInfos). */
  maxCallBodyBytes: 4 * 1024 * 1024,
  /** One event record an executor reader accepts (a LAUNCH_GROUP of many TaskInfos). */
  maxEventBytes: 16 * 1024 * 1024,
} as const;

/** An Authorization header longer than this is refused unread (Basic of a 128-character principal and a 1 KiB secret fits). */
export const maxAuthorizationHeaderChars = 4096;

/** An Idempotency-Key header (idempotency-key.ts): at most this many characters. */
export const maxIdempotencyKeyLength = 255;
/** A body nested deeper than this is not fingerprinted for an Idempotency-Key (no Mesos call comes close). */
export const maxFingerprintDepth = 64;
