// The `flotilla` program without running it, so tests can parse arguments in-process.
import { Command } from 'commander';
import { commandRegistrations } from './commands/index.ts';
import { flotillaVersion } from '../util/version.ts';

export function buildProgram(): Command {
  const program = new Command('flotilla')
    .description('Flotilla: a cluster manager with its own Raft (masters, agents, frameworks)')
    .version(flotillaVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(flotilla --help lists the commands)')
    // Program flags only before the subcommand: `kv cas … --version 3` is the subcommand's
    // --version, not the program's -V/--version.
    .enablePositionalOptions();
  for (const register of commandRegistrations) register(program);
  return program;
}
