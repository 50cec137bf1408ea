import { describe, expect, it } from 'vitest';
import {
  referencedParameters,
  resolveArgument,
  resolveArguments,
  standardParameters,
  UnknownParameterError,
  type ExecutionContext,
} from './template.js';

describe('resolveArgument', () => {
  it('replaces every ${NAME} with its value', () => {
    expect(resolveArgument('${X}_${Y}.tif', { X: '3', Y: '14' })).toBe('3_14.tif');
  });

  it('keeps a value with spaces as one argument', () => {
    const args = resolveArguments(['--name', '${NAME}'], { NAME: 'tile  with spaces' });
    expect(args).toEqual(['--name', 'tile  with spaces']);
  });

  it('passes quotes through untouched', () => {
    expect(resolveArgument('${Q}', { Q: `it's "quoted"` })).toBe(`it's "quoted"`);
  });

  it('never evaluates $() or backticks, in values or in literals', () => {
    expect(resolveArgument('${V}', { V: '$(rm -rf /) `id`' })).toBe('$(rm -rf /) `id`');
    expect(resolveArgument('$(whoami) $HOME', {})).toBe('$(whoami) $HOME');
  });

  it('does not expand references inside a value (single pass)', () => {
    expect(resolveArgument('${A}', { A: '${B}', B: 'no' })).toBe('${B}');
  });

  it('turns $${NAME} into a literal ${NAME}, defined or not', () => {
    expect(resolveArgument('$${ESC}', {})).toBe('${ESC}');
    expect(resolveArgument('$${ESC}/${ESC}', { ESC: 'e' })).toBe('${ESC}/e');
  });

  it('refuses an unknown parameter, naming it', () => {
    let error: unknown;
    try {
      resolveArgument('--out=${MISSING}', { PRESENT: '1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnknownParameterError);
    expect((error as UnknownParameterError).code).toBe('UNKNOWN_PARAMETER');
    expect((error as UnknownParameterError).parameter).toBe('MISSING');
    expect((error as UnknownParameterError).argument).toBe('--out=${MISSING}');
    expect((error as Error).message).toContain('MISSING');
  });

  it('accepts an empty value (a parameter that is defined as empty)', () => {
    expect(resolveArgument('a${E}b', { E: '' })).toBe('ab');
  });

  it('leaves text that is not a reference alone', () => {
    expect(resolveArgument('${1X} ${} $X {X}', {})).toBe('${1X} ${} $X {X}');
  });
});

describe('referencedParameters', () => {
  it('lists the names an argument uses', () => {
    expect(referencedParameters('${X}/${Y}-${X}')).toEqual(['X', 'Y', 'X']);
    expect(referencedParameters('plain')).toEqual([]);
  });
});

describe('standardParameters', () => {
  const ctx: ExecutionContext = {
    projectName: 'p',
    projectRoot: '/data/p',
    logFile: '/logs/t.log',
    x: 1,
    y: 2,
    z: null,
    stepX: null,
    stepY: null,
    stepZ: null,
    expectedExitCode: 0,
    isClusterJob: true,
    taskId: 'task-1',
    adjacentTileRelativePath: null,
    adjacentTileName: null,
  };

  it('builds the MouseLight parameters, empty for unknown values', () => {
    const p = standardParameters(ctx);
    expect(p).toMatchObject({ PROJECT_NAME: 'p', X: '1', Y: '2', Z: '', IS_CLUSTER_JOB: '1', EXPECTED_EXIT_CODE: '0' });
    expect(p.ADJACENT_TILE_NAME).toBe('');
  });

  it('lets project user parameters override them', () => {
    expect(standardParameters(ctx, { X: 'overridden', EXTRA: 'e' })).toMatchObject({ X: 'overridden', EXTRA: 'e' });
  });
});
