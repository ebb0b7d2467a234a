// `flotilla master`: one master of a Raft group of three or five. The flags come from the
// master's option schema (src/master/config.ts); the daemon is composed in src/master/daemon.ts.
// This file parses, starts, and stops on SIGTERM/SIGINT.
import type { Command } from 'commander';
import { masterOptions, parseMasterFlags } from '../../master/config.ts';
import { Master } from '../../master/daemon.ts';
import { createLogger } from '../../util/logger.ts';
import { OptionError } from '../../util/options.ts';
import { addSchemaOptions, givenOptions } from '../options.ts';
import { reloadTlsOnHangup, stopOnSignals } from '../signals.ts';
import type { CommandRegistration } from './types.ts';
import { jsonWanted, listeningAddress, printFailed, printStarted, withDaemonJson } from '../daemon-json.ts';

export const registerMasterCommand: CommandRegistration = (program: Command) => {
  const command = program
    .command('master')
    .description('run a master: Raft replica of the cluster state, operator and key-value HTTP API');
  addSchemaOptions(withDaemonJson(command), masterOptions).action(async () => {
    const id = String(command.opts().id);
    const json = jsonWanted(command);
    let config: ReturnType<typeof parseMasterFlags>;
    try {
      config = parseMasterFlags(givenOptions(command, masterOptions));
    } catch (error) {
      if (!(error instanceof OptionError)) throw error;
      if (json) printFailed('master', 'USAGE', error.message);
      else process.stderr.write(`flotilla master: ${error.message}\n`);
      process.exit(2);
    }
    const logger = createLogger({ node: id, component: 'master' });
    try {
      const master = await Master.start(config, { logger });
      stopOnSignals(logger, 'stopping', () => master.stop());
      reloadTlsOnHangup(logger, config.tls);
      const { listen, dataDir } = master.options;
      const address = listeningAddress(master.http.server.address(), `${listen.host}:${listen.port}`);
      if (json) printStarted('master', { id, address, dataDir });
    } catch (error) {
      // A corrupt log, a port in use, an unreadable data dir: say what and where, then stop.
      if (json) printFailed('master', 'START_FAILED', (error as Error).message);
      else process.stderr.write(`flotilla master ${id}: cannot start: ${(error as Error).message}\n`);
      process.exit(1);
    }
  });
};
