import { InputKind } from '@tileflow/shared';
import { JsonInputSource } from './json-input.js';
import { OptionsReader, type OptionsResult } from './options.js';
import type { DashboardJsonOptions, InputSource } from './types.js';

/** MouseLight's `dashboard.json` in the project root, written by the acquisition dashboard (see json-input.ts). */
export const DASHBOARD_JSON_FILE = 'dashboard.json';

export function validateDashboardJsonOptions(raw: unknown): OptionsResult<Required<DashboardJsonOptions>> {
  const r = new OptionsReader(raw, ['file']);
  const file = r.relativePath('file', DASHBOARD_JSON_FILE) ?? DASHBOARD_JSON_FILE;
  return r.result({ file });
}

export function createDashboardJsonSource(root: string, options: Required<DashboardJsonOptions>): InputSource {
  return new JsonInputSource(InputKind.DashboardJson, root, options.file);
}
