// Killing one task, the way that works today. The operator API has no call that kills one task
// (Mesos' has none either: master.proto offers TEARDOWN of a whole framework, DRAIN_AGENT and
// MARK_AGENT_GONE of a whole agent). The scheduler API has KILL, for the framework that owns
// the task, on its subscribed stream. So this subscribes *as that framework* (a failover
// SUBSCRIBE with its id and its own FrameworkInfo, through the SDK), sends KILL, and lets go
// of the stream at once. Its tasks are untouched; its scheduler, if one was connected, loses
// its stream (ERROR "Framework failed over") and must subscribe again (SDK schedulers do so by
// themselves within a second); the TASK_KILLED update is not acknowledged here, so the
// framework's own scheduler receives it when it is back.
//
// Race (1): the framework's scheduler re-subscribes between our SUBSCRIBED and our KILL; the
// KILL is then refused for the stream id, and the take-over is tried again (bounded).
import { maxTakeOverAttempts } from '../limits.ts';
import { SchedulerClient } from '../../frameworks/sdk/client.ts';
import { SchedulerError } from '../../frameworks/sdk/errors.ts';
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import type { FrameworkInfoInput } from '../../frameworks/sdk/wire.ts';
import type * as Mesos from '../../protocol/mesos.ts';
import { CliError } from './errors.ts';

const subscribeWaitMs = 15_000;

/** The framework's FrameworkInfo as GET_FRAMEWORKS shows it, as a failover SUBSCRIBE sends it. */
export function failoverFrameworkInfo(info: Mesos.FrameworkInfo): FrameworkInfoInput {
  const multiRole = info.capabilities.some((capability) => capability.type === 'MULTI_ROLE');
  return {
    user: info.user,
    name: info.name,
    id: info.id,
    failover_timeout: info.failover_timeout,
    checkpoint: info.checkpoint,
    capabilities: info.capabilities,
    // A framework without MULTI_ROLE names its role in the deprecated `role` only: the master
    // refuses `roles` from it (parse-framework.ts), as Mesos does.
    ...(multiRole ? { roles: info.roles } : { role: info.role ?? info.roles[0] ?? '*' }),
    ...(info.principal === undefined ? {} : { principal: info.principal }),
    ...(info.hostname === undefined ? {} : { hostname: info.hostname }),
    ...(info.webui_url === undefined ? {} : { webui_url: info.webui_url }),
  };
}

/** Subscribes as the framework, sends KILL for the task, and closes the stream. */
export async function sendKillAsFramework(
  masters: readonly MasterAddress[],
  info: Mesos.FrameworkInfo,
  taskId: string,
  agentId: Mesos.IdValue,
): Promise<void> {
  let lastError: Error | null = null;
  for (let attempt = 1; attempt <= maxTakeOverAttempts; attempt++) {
    const client = new SchedulerClient({
      masters,
      framework: failoverFrameworkInfo(info),
      autoAcknowledge: false,
      reconcileOnSubscribe: false,
      subscribeWaitMs,
    });
    try {
      await client.subscribe();
      await client.kill(taskId, agentId);
      return;
    } catch (error) {
      lastError = error as Error;
      if (!(error instanceof SchedulerError) || !lostTheStream(error)) break;
    } finally {
      client.close();
    }
  }
  throw killError(info, lastError!);
}

/**
 * The framework's own scheduler took its stream back before our KILL went out (race 1). (A
 * stream lost before the call was sent is the SDK's to recover: it re-subscribes by itself.)
 */
function lostTheStream(error: SchedulerError): boolean {
  return error.serverCode === 'STREAM_ID_MISMATCH' || error.serverCode === 'FRAMEWORK_NOT_SUBSCRIBED';
}

function killError(info: Mesos.FrameworkInfo, error: Error): CliError {
  if (error instanceof SchedulerError && error.code === 'CALL_REJECTED') {
    return new CliError(
      'REFUSED',
      `KILL as framework ${info.id.value}: ${error.message}`,
      null,
      error.status,
      error.serverCode,
    );
  }
  if (error instanceof SchedulerError && (error.code === 'NETWORK' || error.code === 'NOT_SUBSCRIBED')) {
    return new CliError(
      'NO_MASTER',
      `cannot subscribe as framework ${info.id.value} to send KILL: ${error.message}`,
      'see `flotilla status`',
    );
  }
  return new CliError('KILL_FAILED', `KILL as framework ${info.id.value} failed: ${error.message}`);
}
