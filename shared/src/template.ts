/**
 * Argument templating. A task definition's arguments are literals that may hold `${NAME}` references; they are
 * resolved against the execution's parameters into plain strings, one argv element each. Nothing is ever passed
 * through a shell, so a value holding spaces, quotes or `$()` stays one literal argument.
 */

/** Raised when an argument names a parameter that has no value. */
export class UnknownParameterError extends Error {
  readonly code = 'UNKNOWN_PARAMETER';
  constructor(
    readonly parameter: string,
    readonly argument: string,
  ) {
    super(
      `Argument "${argument}" uses \${${parameter}}, which has no value: define ${parameter} as a project parameter or remove it`,
    );
    this.name = 'UnknownParameterError';
  }
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The parameter names an argument refers to. */
export function referencedParameters(argument: string): string[] {
  return [...argument.matchAll(REFERENCE)].map((m) => m[1]);
}

/** Resolves every `${NAME}` in `argument`; `$${NAME}` escapes to a literal `${NAME}`. */
export function resolveArgument(argument: string, parameters: Readonly<Record<string, string>>): string {
  return argument.replace(/(\$?)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, escape: string, name: string) => {
    if (escape) return whole.slice(1);
    const value = parameters[name];
    if (value === undefined) throw new UnknownParameterError(name, argument);
    return value;
  });
}

/** Resolves a whole argument list. */
export function resolveArguments(args: readonly string[], parameters: Readonly<Record<string, string>>): string[] {
  return args.map((a) => resolveArgument(a, parameters));
}

/** What the system knows about one execution, from which the standard parameters are built. */
export interface ExecutionContext {
  projectName: string;
  projectRoot: string;
  logFile: string;
  x: number | null;
  y: number | null;
  z: number | null;
  stepX: number | null;
  stepY: number | null;
  stepZ: number | null;
  expectedExitCode: number;
  isClusterJob: boolean;
  taskId: string;
  adjacentTileRelativePath: string | null;
  adjacentTileName: string | null;
}

const str = (v: number | string | null): string => (v === null ? '' : String(v));

/**
 * The parameters every task can use (MouseLight's contract), with the project's user parameters overriding them.
 */
export function standardParameters(
  ctx: ExecutionContext,
  userParameters: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    PROJECT_NAME: ctx.projectName,
    PROJECT_ROOT: ctx.projectRoot,
    LOG_FILE: ctx.logFile,
    X: str(ctx.x),
    Y: str(ctx.y),
    Z: str(ctx.z),
    STEP_X: str(ctx.stepX),
    STEP_Y: str(ctx.stepY),
    STEP_Z: str(ctx.stepZ),
    EXPECTED_EXIT_CODE: String(ctx.expectedExitCode),
    IS_CLUSTER_JOB: ctx.isClusterJob ? '1' : '0',
    TASK_ID: ctx.taskId,
    ADJACENT_TILE_RELATIVE_PATH: ctx.adjacentTileRelativePath ?? '',
    ADJACENT_TILE_NAME: ctx.adjacentTileName ?? '',
    ...userParameters,
  };
}
