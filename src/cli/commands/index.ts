// Every subcommand of `flotilla`. A new one is a module in this folder exporting a
// CommandRegistration, plus one line here; help lists subcommands in this order.
import type { CommandRegistration } from './types.ts';
import { registerAgentCommand } from './agent.ts';
import { registerAgentsCommand } from './agents.ts';
import { registerBackupCommand } from './backup.ts';
import { registerFrameworksCommand } from './frameworks.ts';
import { registerKillCommand } from './kill.ts';
import { registerKvCommand } from './kv.ts';
import { registerLogsCommand } from './logs.ts';
import { registerMaintenanceCommand } from './maintenance.ts';
import { registerJobsCommand } from './jobs.ts';
import { registerMasterCommand } from './master.ts';
import { registerQuotaCommand } from './quota.ts';
import { registerRaftCommand } from './raft.ts';
import { registerRestoreCommand } from './restore.ts';
import { registerRunCommand } from './run.ts';
import { registerStatusCommand } from './status.ts';
import { registerTasksCommand } from './tasks.ts';
import { registerServicesCommand } from './services.ts';
import { registerVersionCommand } from './version.ts';
import { registerWeightsCommand } from './weights.ts';

export const commandRegistrations: readonly CommandRegistration[] = [
  registerMasterCommand,
  registerAgentCommand,
  registerStatusCommand,
  registerAgentsCommand,
  registerFrameworksCommand,
  registerTasksCommand,
  registerRunCommand,
  registerLogsCommand,
  registerKillCommand,
  registerRaftCommand,
  registerMaintenanceCommand,
  registerQuotaCommand,
  registerWeightsCommand,
  registerKvCommand,
  registerBackupCommand,
  registerRestoreCommand,
  registerJobsCommand,
  registerServicesCommand,
  registerVersionCommand,
];
