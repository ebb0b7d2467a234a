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
} as const;

/** An Authorization header longer than this is refused unread (Basic of a 128-character principal and a 1 KiB secret fits). */
export const maxAuthorizationHeaderChars = 4096;
