import { InputKind, INPUT_KINDS, UnreachableCaseError } from '@tileflow/shared';
import { createCsvSource, validateCsvOptions } from './csv.js';
import { createDashboardJsonSource, validateDashboardJsonOptions } from './dashboard-json.js';
import { createGlobSource, validateGlobOptions } from './glob.js';
import type { OptionsResult } from './options.js';
import { createPipelineJsonSource, validatePipelineJsonOptions } from './pipeline-json.js';
import type { InputOptionsFieldError, InputSource } from './types.js';

/**
 * Checks `projects.input_options` for an input kind, for the API's create/update mutations. Returns the options
 * with their defaults filled in, or field-level errors (`field` is the option's name).
 */
export function validateInputOptions(kind: string, options: unknown): OptionsResult<object> {
  if (!(INPUT_KINDS as string[]).includes(kind)) {
    return { ok: false, errors: [{ field: 'inputKind', message: `must be one of ${INPUT_KINDS.join(', ')}` }] };
  }
  const k = kind as InputKind;
  switch (k) {
    case InputKind.PipelineJson:
      return validatePipelineJsonOptions(options);
    case InputKind.DashboardJson:
      return validateDashboardJsonOptions(options);
    case InputKind.Glob:
      return validateGlobOptions(options);
    case InputKind.Csv:
      return validateCsvOptions(options);
    default:
      throw new UnreachableCaseError(k);
  }
}

/** Raised by {@link createInputSource} when the options of a project are invalid. */
export class InputOptionsError extends Error {
  readonly code = 'INPUT_OPTIONS';
  constructor(readonly errors: InputOptionsFieldError[]) {
    super(`invalid input options: ${errors.map((e) => (e.field ? `${e.field} ${e.message}` : e.message)).join('; ')}`);
    this.name = 'InputOptionsError';
  }
}

/**
 * The input source of one project, by its `input_kind`. The source keeps state between reads (what it read last,
 * which glob items are stable): keep one per project while its kind, root and options stay the same.
 * `now` (milliseconds) is the clock of the glob stability check; tests pass their own.
 */
export function createInputSource(kind: string, root: string, options: unknown, now?: () => number): InputSource {
  const checked = validateInputOptions(kind, options);
  if (!checked.ok) throw new InputOptionsError(checked.errors);
  const k = kind as InputKind;
  switch (k) {
    case InputKind.PipelineJson:
      return createPipelineJsonSource(root, checked.options as Parameters<typeof createPipelineJsonSource>[1]);
    case InputKind.DashboardJson:
      return createDashboardJsonSource(root, checked.options as Parameters<typeof createDashboardJsonSource>[1]);
    case InputKind.Glob:
      return createGlobSource(root, checked.options as Parameters<typeof createGlobSource>[1], now);
    case InputKind.Csv:
      return createCsvSource(root, checked.options as Parameters<typeof createCsvSource>[1]);
    default:
      throw new UnreachableCaseError(k);
  }
}
