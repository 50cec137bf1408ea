import { InputKind } from '@tileflow/shared';
import { JsonInputSource } from './json-input.js';
import { OptionsReader, type OptionsResult } from './options.js';
import type { InputSource, PipelineJsonOptions } from './types.js';

/** MouseLight's `pipeline-input.json` in the project root (see json-input.ts for the format). */
export const PIPELINE_JSON_FILE = 'pipeline-input.json';

export function validatePipelineJsonOptions(raw: unknown): OptionsResult<Required<PipelineJsonOptions>> {
  const r = new OptionsReader(raw, ['file']);
  const file = r.relativePath('file', PIPELINE_JSON_FILE) ?? PIPELINE_JSON_FILE;
  return r.result({ file });
}

export function createPipelineJsonSource(root: string, options: Required<PipelineJsonOptions>): InputSource {
  return new JsonInputSource(InputKind.PipelineJson, root, options.file);
}
