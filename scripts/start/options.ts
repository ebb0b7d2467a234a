// `npm start [-- --base-port N] [--data-dir DIR] [--verbose]`, with FLOTILLA_BASE_PORT and
// FLOTILLA_DATA_DIR as the environment's way to say the same.
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { agentPortOffset, defaultBasePort } from './layout.ts';

export interface StartOptions {
  readonly basePort: number;
  readonly dataRoot: string;
  readonly verbose: boolean;
}

function port(text: string): number {
  const value = Number(text);
  if (!/^\d{1,5}$/.test(text) || value < 1 || value + agentPortOffset > 65535)
    throw new InvalidArgumentError(`must be a port in [1, ${65535 - agentPortOffset}], got "${text}"`);
  return value;
}

export function parseStartOptions(argv: readonly string[], environment: NodeJS.ProcessEnv): StartOptions {
  const program = new Command('npm start')
    .description('a local Flotilla cluster on loopback: three masters and one agent, data and logs in one folder')
    .option(
      '--base-port <port>',
      `masters on port, port+1, port+2 and the agent on port+${agentPortOffset} ($FLOTILLA_BASE_PORT)`,
      port,
    )
    .option('--data-dir <dir>', 'data and logs ($FLOTILLA_DATA_DIR; default ./.flotilla)')
    .option('--verbose', "stream the nodes' JSON logs here as well as to their files")
    .showHelpAfterError();
  program.parse(argv, { from: 'user' });
  const flags = program.opts<{ basePort?: number; dataDir?: string; verbose?: boolean }>();
  let basePort = flags.basePort;
  if (basePort === undefined && environment.FLOTILLA_BASE_PORT) {
    try {
      basePort = port(environment.FLOTILLA_BASE_PORT);
    } catch (error) {
      program.error(`FLOTILLA_BASE_PORT ${(error as Error).message}`);
    }
  }
  const dataDir = flags.dataDir ?? (environment.FLOTILLA_DATA_DIR || path.join(process.cwd(), '.flotilla'));
  return { basePort: basePort ?? defaultBasePort, dataRoot: path.resolve(dataDir), verbose: flags.verbose === true };
}
