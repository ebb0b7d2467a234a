// The web UI's copy of the task states (src/http/ui/task-states.js) is generated from their one
// home, src/protocol/task-states.ts: the browser runs the UI's plain ES modules as they are, with
// no build step, so it cannot import TypeScript. `npx tsx scripts/generate-ui-modules.ts` writes
// the file; test/http/ui.test.ts fails when it differs from what this renders.
import { taskStates, terminalTaskStates } from '../protocol/task-states.ts';

export const uiTaskStatesFile = new URL('./ui/task-states.js', import.meta.url);

export function renderUiTaskStates(): string {
  const list = (states: readonly string[]): string => states.map((state) => `  '${state}',`).join('\n');
  return [
    '// Generated from src/protocol/task-states.ts by scripts/generate-ui-modules.ts: do not edit.',
    '// Every Mesos task state, in lifecycle order, and which of them are terminal (never change again).',
    `export const taskStateNames = [\n${list(taskStates)}\n];`,
    '',
    `export const terminalTaskStates = new Set([\n${list([...terminalTaskStates])}\n]);`,
    '',
  ].join('\n');
}
