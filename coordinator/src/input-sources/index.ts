/**
 * Input sources: the root stage of a project. One module per input kind behind one interface (types.ts), chosen by
 * `projects.input_kind` with options from `projects.input_options`; the watcher records what they read.
 */
export * from './types.js';
export type { OptionsResult } from './options.js';
export { validateInputOptions, createInputSource, InputOptionsError } from './sources.js';
export { createInputWatcher, type InputWatcher, type InputWatcherOptions, type ProjectPollReport } from './watcher.js';
export { PIPELINE_JSON_FILE } from './pipeline-json.js';
export { DASHBOARD_JSON_FILE } from './dashboard-json.js';
export { CSV_FILE } from './csv.js';
