import { standardParameters, type ExecutionContext } from '@tileflow/shared';

const sample: ExecutionContext = {
  projectName: '',
  projectRoot: '',
  logFile: '',
  x: null,
  y: null,
  z: null,
  stepX: null,
  stepY: null,
  stepZ: null,
  expectedExitCode: 0,
  isClusterJob: false,
  taskId: '',
  adjacentTileRelativePath: null,
  adjacentTileName: null,
};

/** The parameters every task gets (MouseLight's contract), in their documented order, from @tileflow/shared. */
export const STANDARD_PARAMETERS: readonly string[] = Object.keys(standardParameters(sample));

export type ArgumentSegment = { kind: 'text'; text: string } | { kind: 'parameter'; name: string };

/**
 * Splits an argument into literal text and `${NAME}` references, the way the templating resolves it: `$${NAME}`
 * is the escape for a literal `${NAME}`.
 */
export function segmentArgument(argument: string): ArgumentSegment[] {
  const out: ArgumentSegment[] = [];
  const re = /(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
  let last = 0;
  const text = (t: string) => {
    if (!t) return;
    const prev = out[out.length - 1];
    if (prev?.kind === 'text') prev.text += t;
    else out.push({ kind: 'text', text: t });
  };
  for (const m of argument.matchAll(re)) {
    text(argument.slice(last, m.index));
    if (m[1]) text(m[0].slice(1));
    else out.push({ kind: 'parameter', name: m[2] });
    last = m.index + m[0].length;
  }
  text(argument.slice(last));
  return out;
}
