import type { Command } from 'commander';
import { flotillaVersion } from '../../util/version.ts';
import type { CommandRegistration } from './types.ts';

export const registerVersionCommand: CommandRegistration = (program: Command) => {
  program
    .command('version')
    .description('print the version of flotilla and of the Node.js that runs it')
    .option('--json', 'print one JSON object instead of text')
    .action((options: { json?: boolean }) => {
      const versions = { flotilla: flotillaVersion(), node: process.version };
      process.stdout.write(
        options.json ? `${JSON.stringify(versions)}\n` : `flotilla ${versions.flotilla} (node ${versions.node})\n`,
      );
    });
};
