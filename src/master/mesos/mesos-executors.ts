// Executors in Mesos v1 JSON (mesos.proto ExecutorInfo, CommandInfo; master.proto
// Response.GetExecutors.Executor), as GET_EXECUTORS and GET_STATE answer them.
import type { CommandUri } from '../../protocol/command-uris.ts';
import type * as Mesos from '../../protocol/mesos.ts';
import type * as Operator from '../../protocol/operator.ts';
import type { Executor } from '../../state-machine/state.ts';
import type { TaskCommand } from '../../state-machine/values.ts';
import { idValue, mesosLabels, mesosResources, nanoseconds } from './mesos-json.ts';

function mesosUri(uri: CommandUri): Mesos.CommandInfoUri {
  return {
    value: uri.value,
    executable: uri.executable,
    extract: uri.extract,
    cache: uri.cache,
    ...(uri.outputFile === null ? {} : { output_file: uri.outputFile }),
  };
}

export function mesosCommand(command: TaskCommand): Mesos.CommandInfo {
  const variables = Object.entries(command.environment).map(([name, value]) => ({
    name,
    type: 'VALUE' as const,
    value,
  }));
  return {
    value: command.value,
    shell: command.shell,
    ...(command.arguments.length === 0 ? {} : { arguments: [...command.arguments] }),
    ...(variables.length === 0 ? {} : { environment: { variables } }),
    ...(command.user === null ? {} : { user: command.user }),
    ...(command.uris === undefined ? {} : { uris: command.uris.map(mesosUri) }),
  };
}

export function mesosExecutorInfo(executor: Executor): Mesos.ExecutorInfo {
  const info = executor.info;
  return {
    type: info.type,
    executor_id: idValue(info.id),
    framework_id: idValue(executor.frameworkId),
    ...(info.command === null ? {} : { command: mesosCommand(info.command) }),
    resources: mesosResources(info.resources, executor.role),
    ...(info.name === null ? {} : { name: info.name }),
    ...(info.shutdownGracePeriodMs === null ? {} : { shutdown_grace_period: nanoseconds(info.shutdownGracePeriodMs) }),
    ...(Object.keys(info.labels).length === 0 ? {} : { labels: mesosLabels(info.labels) }),
  };
}

export function mesosExecutor(executor: Executor): Operator.Executor {
  return { executor_info: mesosExecutorInfo(executor), agent_id: idValue(executor.agentId) };
}
