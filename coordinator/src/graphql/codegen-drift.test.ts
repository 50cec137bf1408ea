import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../codegen.js';

/**
 * The merged schema (coordinator/schema.graphql) and the resolver types (src/graphql/generated/resolvers.ts) are
 * committed; this fails when they no longer match src/graphql/schema/*.graphql. Fix: npm run codegen -w @tileflow/coordinator.
 */
describe('generated GraphQL files', () => {
  it('match the .graphql sources', async () => {
    const root = path.resolve(import.meta.dirname, '..', '..');
    const cwd = process.cwd();
    process.chdir(root);
    let outputs: Array<{ filename: string; content: string }>;
    try {
      outputs = await generate({ ...config, cwd: root, silent: true }, false);
    } finally {
      process.chdir(cwd);
    }
    expect(outputs.map((o) => path.relative(root, path.resolve(root, o.filename))).sort()).toEqual([
      'schema.graphql',
      'src/graphql/generated/resolvers.ts',
    ]);
    for (const o of outputs) {
      const committed = readFileSync(path.resolve(root, o.filename), 'utf8');
      expect(committed, `${o.filename} is stale: run npm run codegen -w @tileflow/coordinator`).toBe(o.content);
    }
  }, 60_000);
});
