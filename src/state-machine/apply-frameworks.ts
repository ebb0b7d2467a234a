// Frameworks: subscribe (new or failover), update, disconnect, teardown. A framework that is
// not CONNECTED holds no offers, and offers never outlive the role they were made for; a torn
// down framework's live tasks are killed (Mesos removeFramework: TASK_KILLED, REASON_FRAMEWORK_REMOVED).
import type { DisconnectFramework, SubscribeFramework, TeardownFramework, UpdateFramework } from './commands.ts';
import { reject, success, type ApplyResult } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import type { LogIndex } from './ids.ts';
import { removeExecutorsAmong } from './executors.ts';
import { removeOffersOfFramework } from './offer-book.ts';
import type { Framework, State } from './state.ts';
import { liveTasksAmong, masterStatus, transitionTasks } from './task-lifecycle.ts';
import type { FrameworkInfo } from './values.ts';
import { putFramework } from './writes.ts';

/** The framework, if it exists and is not completed; otherwise the rejection. */
function findOpenFramework(state: State, frameworkId: Framework['id']): Framework | ApplyResult {
  const framework = state.frameworks.get(frameworkId);
  if (framework === undefined) return reject('FRAMEWORK_NOT_FOUND', `framework ${frameworkId} is not registered`);
  if (framework.state === 'COMPLETED') return reject('FRAMEWORK_COMPLETED', `framework ${frameworkId} was torn down`);
  return framework;
}

const isResult = (value: Framework | ApplyResult): value is ApplyResult => 'ok' in value;

function principalChanged(framework: Framework, info: FrameworkInfo): ApplyResult | null {
  if (framework.info.principal === info.principal) return null;
  return reject('FRAMEWORK_PRINCIPAL_MISMATCH', `framework ${framework.id} is registered with another principal`);
}

/** Offers for roles the framework no longer has go back to the pool. */
function dropOffersOfLeftRoles(
  state: State,
  framework: Framework,
  info: FrameworkInfo,
  index: LogIndex,
  events: ChangeEvent[],
): void {
  const kept = new Set(info.roles);
  removeOffersOfFramework(state, framework.id, 'FRAMEWORK_CHANGED', index, events, (offer) => kept.has(offer.role));
}

export function applySubscribeFramework(
  state: State,
  command: SubscribeFramework,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const existing = state.frameworks.get(command.frameworkId);
  if (existing === undefined) {
    const framework: Framework = {
      id: command.frameworkId,
      info: command.info,
      state: 'CONNECTED',
      registeredAt: command.at,
      reregisteredAt: null,
      disconnectedAt: null,
      completedAt: null,
      createIndex: index,
      modifyIndex: index,
    };
    putFramework(state, framework);
    events.push({ type: 'FRAMEWORK_ADDED', framework });
    return success;
  }
  const found = findOpenFramework(state, command.frameworkId);
  if (isResult(found)) return found;
  const principalProblem = principalChanged(found, command.info);
  if (principalProblem !== null) return principalProblem;
  dropOffersOfLeftRoles(state, found, command.info, index, events);
  const framework: Framework = {
    ...found,
    info: command.info,
    state: 'CONNECTED',
    reregisteredAt: command.at,
    disconnectedAt: null,
    modifyIndex: index,
  };
  putFramework(state, framework);
  events.push({ type: 'FRAMEWORK_UPDATED', framework });
  return success;
}

export function applyUpdateFramework(
  state: State,
  command: UpdateFramework,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findOpenFramework(state, command.frameworkId);
  if (isResult(found)) return found;
  const principalProblem = principalChanged(found, command.info);
  if (principalProblem !== null) return principalProblem;
  dropOffersOfLeftRoles(state, found, command.info, index, events);
  const framework: Framework = { ...found, info: command.info, modifyIndex: index };
  putFramework(state, framework);
  events.push({ type: 'FRAMEWORK_UPDATED', framework });
  return success;
}

export function applyDisconnectFramework(
  state: State,
  command: DisconnectFramework,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findOpenFramework(state, command.frameworkId);
  if (isResult(found)) return found;
  if (found.state === 'DISCONNECTED') return success;
  removeOffersOfFramework(state, found.id, 'FRAMEWORK_CHANGED', index, events);
  const framework: Framework = { ...found, state: 'DISCONNECTED', disconnectedAt: command.at, modifyIndex: index };
  putFramework(state, framework);
  events.push({ type: 'FRAMEWORK_UPDATED', framework });
  return success;
}

export function applyTeardownFramework(
  state: State,
  command: TeardownFramework,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const found = findOpenFramework(state, command.frameworkId);
  if (isResult(found)) return found;
  removeOffersOfFramework(state, found.id, 'FRAMEWORK_CHANGED', index, events);
  transitionTasks(
    state,
    liveTasksAmong(state, state.derived.liveTasksByFramework.get(found.id)),
    () =>
      masterStatus('TASK_KILLED', 'REASON_FRAMEWORK_REMOVED', `framework ${found.id} was torn down`, command.at, index),
    index,
    events,
  );
  // Mesos' agents shut the framework's executors down; their resources go back with its tasks'.
  removeExecutorsAmong(state, state.derived.executorsByFramework.get(found.id), index, events);
  const framework: Framework = { ...found, state: 'COMPLETED', completedAt: command.at, modifyIndex: index };
  putFramework(state, framework);
  events.push({ type: 'FRAMEWORK_REMOVED', framework });
  return success;
}
