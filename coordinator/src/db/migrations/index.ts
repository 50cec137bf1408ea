import type { Migration } from '../migrate.js';
import * as m0001 from './0001_initial.js';

/** Every migration, in order. Add new ones at the end; never edit one that has landed. */
export const migrations: Array<{ name: string; up: Migration; down: Migration }> = [{ name: '0001_initial', ...m0001 }];
