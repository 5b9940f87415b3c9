/**
 * How the command line reports a failure: every expected error is one line (the file or flag, and what is wrong)
 * with its exit code (2 bad input, 1 failed, 130 cancelled); only an unexpected error (a bug) prints its stack
 * trace, with a request to report it.
 */
import { EngineError, ModelError } from '../engine/model';
import { HubError } from '../hub/hubError';
import { UsageError } from './args';

export interface Failure {
  /** What to print on stderr (one line, except for bugs). */
  readonly text: string;
  readonly exitCode: number;
}

const PREFIX = 'inline-diffusion: ';
const HINT = ' (see inline-diffusion --help)';

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*-?\s*/g, '; ');
}

/** A Node system error (ENOSPC, EACCES, …) as one line naming the file. */
function systemError(err: NodeJS.ErrnoException): Failure {
  const where = err.path ? ` ${err.path}` : '';
  if (err.code === 'ENOSPC' || err.code === 'EDQUOT') {
    return { text: `${PREFIX}disk full: could not write${where || ' the output'} (${err.code}); nothing partial was left behind: free some space and run again`, exitCode: 1 };
  }
  const what = err.syscall ? `${err.syscall}${where}` : where.trim();
  return { text: `${PREFIX}${what}: ${err.code} (${oneLine(err.message.replace(/^[A-Z]+: /, '').replace(/, \w+ .*$/, ''))})`, exitCode: 1 };
}

export function describeFailure(err: unknown): Failure {
  if (err instanceof UsageError) return { text: `${PREFIX}${oneLine(err.message)}${HINT}`, exitCode: 2 };
  if (err instanceof ModelError) return { text: `${PREFIX}${oneLine(err.message)}`, exitCode: 2 };
  if (err instanceof EngineError) {
    const exitCode = err.code === 'cancelled' ? 130 : err.code === 'invalid-request' || err.code === 'model-invalid' ? 2 : 1;
    return { text: `${PREFIX}${oneLine(err.message)}`, exitCode };
  }
  if (err instanceof HubError) {
    const bad = err.kind === 'not-found' || err.kind === 'not-a-pipeline' || err.kind === 'needs-token';
    return { text: `${PREFIX}${oneLine(err.message)}`, exitCode: err.kind === 'cancelled' ? 130 : bad ? 2 : 1 };
  }
  const sys = err as NodeJS.ErrnoException;
  if (err instanceof Error && typeof sys.code === 'string' && /^E[A-Z]+$/.test(sys.code) && typeof sys.syscall === 'string') return systemError(sys);
  const trace = err instanceof Error ? err.stack ?? err.message : String(err);
  return {
    text: `${PREFIX}${trace}\n${PREFIX}this is a bug in inline-diffusion, not something you did: please report it with the lines above`,
    exitCode: 1,
  };
}
