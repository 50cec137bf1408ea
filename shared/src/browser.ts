/**
 * What the web client may import: everything of the shared package that runs in a browser. Path handling and
 * environment parsing (node:path, process.env) stay on the Node side, in index.ts.
 */
export * from './enums.js';
export * from './template.js';
export * from './protocol.js';
export * from './events.js';
