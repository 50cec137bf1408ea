export * from './enums.js';
export * from './paths.js';
export * from './template.js';
export * from './config.js';
export * from './protocol.js';
export * from './events.js';
