// Writes the web UI's generated modules (src/http/ui-task-states.ts says why they exist).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderUiTaskStates, uiTaskStatesFile } from '../src/http/ui-task-states.ts';

writeFileSync(uiTaskStatesFile, renderUiTaskStates());
process.stdout.write(`wrote ${fileURLToPath(uiTaskStatesFile)}\n`);
