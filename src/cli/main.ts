// Entry point of the `flotilla` command (bin/flotilla.js loads this through tsx).
import { buildProgram } from './program.ts';

await buildProgram().parseAsync(process.argv);
