// Branded ids, zod style: a plain string at run time, a distinct type at compile time, so an
// AgentId cannot be passed where a TaskId is expected. Ids are chosen by the leader (or, for
// tasks, by the framework) and arrive inside commands; apply never invents one.
import { assert } from '../util/assert.ts';
import { maxIdLength } from './limits.ts';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: { readonly [K in B]: true } };

export type AgentId = Brand<string, 'AgentId'>;
export type FrameworkId = Brand<string, 'FrameworkId'>;
export type TaskId = Brand<string, 'TaskId'>;
export type OfferId = Brand<string, 'OfferId'>;
export type ExecutorId = Brand<string, 'ExecutorId'>;

/** A Raft log index, 1-based. The index of a write is its entity's modifyIndex. */
export type LogIndex = number;

/** Letters, digits and . _ : @ + -; never "/" (it separates the parts of composite keys). */
const idPattern = /^[A-Za-z0-9_][A-Za-z0-9._:@+-]*$/;

export function isValidId(raw: string): boolean {
  return raw.length <= maxIdLength && idPattern.test(raw);
}

function checkedId(kind: string, raw: string): string {
  assert(isValidId(raw), `invalid ${kind} "${raw}"`);
  return raw;
}

export const agentId = (raw: string): AgentId => checkedId('agent id', raw) as AgentId;
export const frameworkId = (raw: string): FrameworkId => checkedId('framework id', raw) as FrameworkId;
export const taskId = (raw: string): TaskId => checkedId('task id', raw) as TaskId;
export const offerId = (raw: string): OfferId => checkedId('offer id', raw) as OfferId;
export const executorId = (raw: string): ExecutorId => checkedId('executor id', raw) as ExecutorId;

/** Task ids are unique per framework only, so tasks are keyed by both. */
export type TaskKey = Brand<string, 'TaskKey'>;
export const taskKey = (framework: FrameworkId, task: TaskId): TaskKey => `${framework}/${task}` as TaskKey;

/** Executor ids are unique per framework and agent (Mesos), so executors are keyed by all three. */
export type ExecutorKey = Brand<string, 'ExecutorKey'>;
export const executorKey = (agent: AgentId, framework: FrameworkId, executor: ExecutorId): ExecutorKey =>
  `${agent}/${framework}/${executor}` as ExecutorKey;
