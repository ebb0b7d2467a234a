// Checks a history.jsonl again, without a cluster: for regression fixtures and for a history
// someone sends in.
//   npx tsx test/jepsen-lite/check.ts --workload register path/to/history.jsonl [--key r3]
// Exit status: 0 valid, 1 invalid, 2 unknown, 64 bad arguments.
import { Command } from 'commander';
import { checkRegister } from './checker/register-checker.ts';
import { checkSet } from './checker/set-checker.ts';
import { pairOperations } from './history/operations.ts';
import { readHistoryFile } from './history/read.ts';

export function checkHistoryFile(workload: string, file: string, key?: string) {
  const operations = pairOperations(readHistoryFile(file)).filter(
    (operation) => key === undefined || operation.key === key,
  );
  if (workload === 'register') return checkRegister(operations);
  if (workload === 'set') return checkSet(operations);
  throw new Error(`--workload must be register or set, got "${workload}"`);
}

async function main(): Promise<void> {
  const program = new Command('check')
    .argument('<history>', 'a history.jsonl written by a run')
    .requiredOption('--workload <name>', 'register or set')
    .option('--key <key>', 'only this key (register) or bucket (set)')
    .parse();
  const flags = program.opts<{ workload: string; key?: string }>();
  try {
    const result = checkHistoryFile(flags.workload, program.args[0]!, flags.key);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.exitCode = result.valid === true ? 0 : result.valid === false ? 1 : 2;
  } catch (error) {
    process.stderr.write(`check: ${(error as Error).message}\n`);
    process.exitCode = 64;
  }
}

if (process.argv[1]?.endsWith('check.ts')) await main();
