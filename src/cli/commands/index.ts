// Every subcommand of `flotilla`. A new one is a module in this folder exporting a
// CommandRegistration, plus one line here; help lists subcommands in this order.
import type { CommandRegistration } from './types.ts';
import { registerAgentCommand } from './agent.ts';
import { registerMasterCommand } from './master.ts';
import { registerRunCommand } from './run.ts';
import { registerServicesCommand } from './services.ts';
import { registerVersionCommand } from './version.ts';

export const commandRegistrations: readonly CommandRegistration[] = [
  registerMasterCommand,
  registerAgentCommand,
  registerRunCommand,
  registerServicesCommand,
  registerVersionCommand,
];
