// Colour only where a person reads it: stdout is a terminal, NO_COLOR is unset
// (https://no-color.org), and FORCE_COLOR can force it on. picocolors' own guess also turns
// colour on under CI=…, which would put escape codes into CI logs and piped output; we decide
// here and hand it the answer.
import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

export function colorWanted(environment: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): boolean {
  if (environment.NO_COLOR !== undefined && environment.NO_COLOR !== '') return false;
  if (environment.FORCE_COLOR !== undefined && environment.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && environment.TERM !== 'dumb';
}

export function makeColors(enabled: boolean): Colors {
  return picocolors.createColors(enabled);
}

/** A task state in the colour people expect: green running, red failed, dim finished. */
export function stateColor(colors: Colors, state: string): string {
  switch (state) {
    case 'TASK_RUNNING':
    case 'ACTIVE':
    case 'CONNECTED':
    case 'leader':
      return colors.green(state);
    case 'TASK_FAILED':
    case 'TASK_ERROR':
    case 'TASK_LOST':
    case 'TASK_DROPPED':
    case 'TASK_GONE':
    case 'TASK_GONE_BY_OPERATOR':
    case 'UNREACHABLE':
    case 'GONE':
    case 'DOWN':
      return colors.red(state);
    case 'TASK_STAGING':
    case 'TASK_STARTING':
    case 'TASK_KILLING':
    case 'TASK_UNREACHABLE':
    case 'DRAINING':
    case 'DEACTIVATED':
    case 'DISCONNECTED':
    case 'candidate':
    case 'learner':
      return colors.yellow(state);
    case 'TASK_FINISHED':
    case 'TASK_KILLED':
    case 'COMPLETED':
    case 'DRAINED':
      return colors.dim(state);
    default:
      return state;
  }
}
