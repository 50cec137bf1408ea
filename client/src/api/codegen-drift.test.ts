// @vitest-environment node
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../codegen';

/**
 * The client's typed operations (src/api/generated.ts) are committed; this fails when they no longer match the
 * operations (src/**\/*.graphql) or coordinator/schema.graphql. Fix: npm run codegen -w @tileflow/client.
 */
describe('generated client operations', () => {
  it('match the .graphql sources and the schema', async () => {
    const root = path.resolve(import.meta.dirname, '..', '..');
    const cwd = process.cwd();
    process.chdir(root);
    let outputs: Array<{ filename: string; content: string }>;
    try {
      outputs = await generate({ ...config, cwd: root, silent: true }, false);
    } finally {
      process.chdir(cwd);
    }
    expect(outputs.map((o) => path.relative(root, path.resolve(root, o.filename)))).toEqual(['src/api/generated.ts']);
    const committed = readFileSync(path.resolve(root, outputs[0].filename), 'utf8');
    expect(committed, 'src/api/generated.ts is stale: run npm run codegen -w @tileflow/client').toBe(
      outputs[0].content,
    );
  }, 60_000);
});
