// `flotilla agent`: the daemon that offers a machine's resources and runs tasks. The flags come
// from the agent's option schema (src/agent/config.ts); the daemon is composed in
// src/agent/daemon.ts. This file parses, starts, and stops on SIGTERM/SIGINT (tasks keep running).
import type { Command } from 'commander';
import { CheckpointError } from '../../agent/checkpoint.ts';
import { agentOptions, parseAgentFlags } from '../../agent/config.ts';
import { startAgentDaemon } from '../../agent/daemon.ts';
import { createLogger } from '../../util/logger.ts';
import { OptionError } from '../../util/options.ts';
import { addSchemaOptions, givenOptions } from '../options.ts';
import { reloadTlsOnHangup, stopOnSignals } from '../signals.ts';
import type { CommandRegistration } from './types.ts';
import { jsonWanted, listeningAddress, printFailed, printStarted, withDaemonJson } from '../daemon-json.ts';

function fail(message: string, code: number, json: boolean): never {
  if (json) printFailed('agent', code === 2 ? 'USAGE' : 'START_FAILED', message);
  else process.stderr.write(`flotilla agent: ${message}\n`);
  process.exit(code);
}

export const registerAgentCommand: CommandRegistration = (program: Command) => {
  const command = program
    .command('agent')
    .description("run an agent: offer this machine's resources to the masters and run tasks");
  addSchemaOptions(withDaemonJson(command), agentOptions).action(async () => {
    const json = jsonWanted(command);
    let config: ReturnType<typeof parseAgentFlags>;
    try {
      config = parseAgentFlags(givenOptions(command, agentOptions));
    } catch (error) {
      if (error instanceof OptionError) fail(error.message, 2, json);
      throw error;
    }
    const { hostname, listen } = config.options;
    const logger = createLogger({ node: hostname ?? `agent@${listen.host}:${listen.port}`, component: 'agent' });
    try {
      const agent = await startAgentDaemon(config, { logger });
      stopOnSignals(logger, 'stopping (tasks keep running)', () => agent.stop());
      reloadTlsOnHangup(logger, config.tls);
      const fallback = `${listen.host}:${listen.port}`;
      const address = listeningAddress(agent.http?.server.address() ?? null, fallback);
      if (json) printStarted('agent', { hostname: agent.options.hostname, address, masters: agent.options.masters });
    } catch (error) {
      // A corrupted checkpoint, a port in use: say what and where, then stop.
      const kind = error instanceof CheckpointError ? 'checkpoint' : 'start';
      logger.fatal({ error: (error as Error).message, kind }, 'cannot start');
      fail(`cannot start: ${(error as Error).message}`, 1, json);
    }
  });
};
