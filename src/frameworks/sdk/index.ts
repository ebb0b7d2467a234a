// The Flotilla scheduler SDK: a typed client of the Mesos v1 scheduler HTTP API.
export {
  SchedulerClient,
  type ConnectionChange,
  type ConnectionState,
  type SchedulerClientOptions,
} from './client.ts';
export { defaultCallRetryPolicy, type CallRetryPolicy } from './call-retry.ts';
export { isTerminalTaskState, terminalTaskStates } from '../../protocol/task-states.ts';
export { SchedulerError, sdkErrorCodes, type SdkErrorCode } from './errors.ts';
export {
  defaultMasters,
  parseMasterList,
  parseMasterAddress,
  parseRedirectLocation,
  type MasterAddress,
} from './masters.ts';
export {
  explainMismatch,
  matchOffer,
  pickPorts,
  scalarTotal,
  takeScalar,
  type OfferMatch,
  type TaskRequirement,
} from './offer-matching.ts';
export {
  buildTaskInfo,
  buildCommandInfo,
  newTaskId,
  TaskSpecError,
  type TaskCommand,
  type TaskSpec,
} from './task-info.ts';
export type {
  EventOf,
  FrameworkInfoInput,
  OfferOperation,
  SchedulerEvent,
  SchedulerEventType,
  TaskInfo,
  ExecutorInfo,
} from './wire.ts';
export { agentAddressOfOffer, readAgentFile, sandboxFilePath, type FileChunk } from './agent-files.ts';
export { credentialHeaders, type FrameworkCredentials } from './transport.ts';
export type { ClientTls } from '../../protocol/tls-client.ts';
