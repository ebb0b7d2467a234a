// The state machine's transition function (Nomad's fsm.go `Apply`, made deterministic): one
// exhaustive switch on the command type, each case a small `applyX`. Every `applyX` validates
// first and mutates only once nothing can fail, so a rejected command leaves the state exactly
// as it was. No clock, no randomness, no I/O: time and ids come in the command. After every
// successful command, history beyond the replicated limits is pruned (history.ts).
import { applyAcceptOffers } from './apply-accept.ts';
import { applyAgentRegistrationBatch, applyTaskStatusBatch } from './apply-batch.ts';
import { applyDeactivateAgent, applyDrainAgent, applyMarkAgentDrained, applyReactivateAgent } from './apply-drain.ts';
import { applyMarkAgentGone, applyRegisterAgent, applyReregisterAgent, applyUpdateAgentState } from './apply-agents.ts';
import {
  applyDisconnectFramework,
  applySubscribeFramework,
  applyTeardownFramework,
  applyUpdateFramework,
} from './apply-frameworks.ts';
import { applyKvDelete, applyKvPut } from './apply-kv.ts';
import { applyUpdateHistoryLimits, settleHistory } from './history.ts';
import { applyStartMaintenance, applyStopMaintenance, applyUpdateMaintenanceSchedule } from './apply-maintenance.ts';
import { applyCreateOffers, applyDeclineOffers, applyRescindOffer } from './apply-offers.ts';
import { applyUpdateQuota, applyUpdateWeights } from './apply-quota.ts';
import { applyReserveResources, applyUnreserveResources } from './apply-reservations.ts';
import { applyCreateVolumes, applyDestroyVolumes } from './apply-volumes.ts';
import { applyAcknowledgeTaskStatus, applyKillTask, applyUpdateTaskStatus } from './apply-tasks.ts';
import { applyRemoveExecutor } from './executors.ts';
import { pendingOperations, recordOperations } from './operations.ts';
import { assert, assertNever } from '../util/assert.ts';
import type { Command } from './commands.ts';
import { success, type ApplyResult } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import type { LogIndex } from './ids.ts';
import type { State } from './state.ts';

/**
 * Applies `command`, written at Raft `index`, to `state` in place. Change events are appended to
 * `events` in the order the changes happened. A rejection changes nothing and emits nothing.
 */
export function apply(state: State, command: Command, index: LogIndex, events: ChangeEvent[] = []): ApplyResult {
  assert(Number.isSafeInteger(index) && index > 0, `apply: index must be a positive whole number, got ${index}`);
  // Each item goes through this function whole (operations, history), as its single command would.
  if (command.type === 'task_status_batch') return applyTaskStatusBatch(state, command, index, events, apply);
  if (command.type === 'agent_registration_batch') {
    return applyAgentRegistrationBatch(state, command, index, events, apply);
  }
  const operations = pendingOperations(state, command);
  const result = applyCommand(state, command, index, events);
  if (result.ok && operations.length > 0) recordOperations(state, operations, 'at' in command ? command.at : 0, index);
  if (result.ok) settleHistory(state, command, index, events);
  else assert(state.derived.newlyCompleted.length === 0, `rejected ${command.type} completed a task`);
  return result;
}

function applyCommand(state: State, command: Command, index: LogIndex, events: ChangeEvent[]): ApplyResult {
  switch (command.type) {
    case 'register_agent':
      return applyRegisterAgent(state, command, index, events);
    case 'reregister_agent':
      return applyReregisterAgent(state, command, index, events);
    case 'agent_registration_batch':
      // Not reached: apply() hands a batch to applyAgentRegistrationBatch before anything else.
      return applyAgentRegistrationBatch(state, command, index, events, apply);
    case 'update_agent_state':
      return applyUpdateAgentState(state, command, index, events);
    case 'mark_agent_gone':
      return applyMarkAgentGone(state, command, index, events);
    case 'deactivate_agent':
      return applyDeactivateAgent(state, command, index, events);
    case 'reactivate_agent':
      return applyReactivateAgent(state, command, index, events);
    case 'drain_agent':
      return applyDrainAgent(state, command, index, events);
    case 'mark_agent_drained':
      return applyMarkAgentDrained(state, command, index, events);
    case 'subscribe_framework':
      return applySubscribeFramework(state, command, index, events);
    case 'update_framework':
      return applyUpdateFramework(state, command, index, events);
    case 'disconnect_framework':
      return applyDisconnectFramework(state, command, index, events);
    case 'teardown_framework':
      return applyTeardownFramework(state, command, index, events);
    case 'create_offers':
      return applyCreateOffers(state, command, index, events);
    case 'rescind_offer':
      return applyRescindOffer(state, command, index, events);
    case 'decline_offers':
      return applyDeclineOffers(state, command, index, events);
    case 'accept_offers':
      return applyAcceptOffers(state, command, index, events);
    case 'update_task_status':
      return applyUpdateTaskStatus(state, command, index, events);
    case 'acknowledge_task_status':
      return applyAcknowledgeTaskStatus(state, command, index);
    case 'task_status_batch':
      // Not reached: apply() hands a batch to applyTaskStatusBatch before anything else.
      return applyTaskStatusBatch(state, command, index, events, apply);
    case 'kill_task':
      return applyKillTask(state, command, index, events);
    case 'remove_executor':
      return applyRemoveExecutor(state, command, index, events);
    case 'reserve_resources':
      return applyReserveResources(state, command, index);
    case 'unreserve_resources':
      return applyUnreserveResources(state, command, index);
    case 'create_volumes':
      return applyCreateVolumes(state, command, index, events);
    case 'destroy_volumes':
      return applyDestroyVolumes(state, command, index, events);
    case 'update_quota':
      return applyUpdateQuota(state, command, index);
    case 'update_weights':
      return applyUpdateWeights(state, command, index);
    case 'update_maintenance_schedule':
      return applyUpdateMaintenanceSchedule(state, command, index);
    case 'start_maintenance':
      return applyStartMaintenance(state, command, index, events);
    case 'stop_maintenance':
      return applyStopMaintenance(state, command, index);
    case 'kv_put':
      return applyKvPut(state, command, index);
    case 'kv_delete':
      return applyKvDelete(state, command);
    case 'update_history_limits':
      return applyUpdateHistoryLimits(state, command, index);
    case 'noop':
      return success;
    default:
      return assertNever(command);
  }
}
