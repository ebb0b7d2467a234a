// Operator API calls against a real single-voter master, and the test-only way to put agents,
// frameworks and tasks into its state before those have APIs of their own: proposing state
// machine commands straight to the master's Raft node (what the agent gateway and scheduler API
// will do through the facade).
import * as assert from 'uvu/assert';
import type * as Operator from '../../../src/protocol/operator.ts';
import { encodeCommand } from '../../../src/state-machine/codec.ts';
import type { Command } from '../../../src/state-machine/commands.ts';
import type { ApplyResult } from '../../../src/state-machine/errors.ts';
import { errorOf, type JsonObject } from '../../support/answers.ts';
import type { SingleMaster } from '../../support/master.ts';

export interface OperatorAnswer {
  readonly status: number;
  /** Parsed JSON, or null for an empty body. */
  readonly body: unknown;
  readonly headers: Headers;
}

/** The response message of each read call the tests make (src/http/operator/*-calls.ts). */
export interface ReadAnswers {
  readonly GET_AGENTS: Operator.GetAgents;
  readonly GET_FRAMEWORKS: Operator.GetFrameworks;
  readonly GET_TASKS: Operator.GetTasks;
  readonly GET_STATE: Operator.GetState;
  readonly GET_ROLES: { readonly roles: readonly Operator.Role[] };
  readonly GET_WEIGHTS: { readonly weight_infos: readonly Operator.WeightInfo[] };
  readonly GET_QUOTA: { readonly status: Operator.QuotaStatus };
  readonly GET_METRICS: { readonly metrics: readonly Operator.Metric[] };
  readonly GET_MAINTENANCE_SCHEDULE: { readonly schedule: Operator.MaintenanceSchedule };
  readonly GET_MAINTENANCE_STATUS: { readonly status: Operator.ClusterStatus };
}

export async function operatorCall(
  cluster: SingleMaster,
  body: unknown,
  headers: Record<string, string> = {},
  query = '',
): Promise<OperatorAnswer> {
  const response = await fetch(`${cluster.url}/api/v1${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text), headers: response.headers };
}

/** A read call's response message, e.g. `read(cluster, 'GET_AGENTS')` → the `get_agents` object. */
export async function read<Type extends keyof ReadAnswers>(
  cluster: SingleMaster,
  type: Type,
): Promise<ReadAnswers[Type]> {
  const answer = await operatorCall(cluster, { type });
  assert.is(answer.status, 200, `${type}: ${JSON.stringify(answer.body)}`);
  const body = answer.body as JsonObject;
  assert.is(body.type, type);
  return body[type.toLowerCase()] as ReadAnswers[Type];
}

/** A write call that Mesos answers with 200 and no body. */
/** Mesos answers 202 Accepted to the calls that run an offer operation, 200 to the others. */
const acceptedCalls = new Set(['RESERVE_RESOURCES', 'UNRESERVE_RESOURCES', 'CREATE_VOLUMES', 'DESTROY_VOLUMES']);

export async function writeOk(cluster: SingleMaster, call: Record<string, unknown>): Promise<void> {
  const answer = await operatorCall(cluster, call);
  const expected = acceptedCalls.has(String(call.type)) ? 202 : 200;
  assert.is(answer.status, expected, `${String(call.type)}: ${JSON.stringify(answer.body)}`);
  assert.is(answer.body, null, `${String(call.type)} answers an empty body`);
}

/** A call that must fail with this status and stable code. */
export async function fails(cluster: SingleMaster, call: unknown, status: number, code: string): Promise<void> {
  const answer = await operatorCall(cluster, call);
  const label = JSON.stringify(call).slice(0, 160);
  assert.is(answer.status, status, `${label} → ${JSON.stringify(answer.body)}`);
  assert.is(errorOf(answer.body, label).code, code, label);
}

/** Test-only path: applies `command` through Raft on the master, bypassing the HTTP layer. */
export async function propose(cluster: SingleMaster, command: Command): Promise<ApplyResult> {
  const { result } = await cluster.master.raft.propose(encodeCommand(command));
  return result as ApplyResult;
}

export async function proposeOk(cluster: SingleMaster, ...commands: Command[]): Promise<void> {
  for (const command of commands) {
    const result = await propose(cluster, command);
    if (!result.ok) assert.unreachable(`${command.type} rejected: ${result.code} ${result.message}`);
  }
}
