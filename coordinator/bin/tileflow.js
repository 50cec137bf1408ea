#!/usr/bin/env node
// The `tileflow` command: runs the built CLI (coordinator/dist). Build first with `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    `tileflow: ${fileURLToPath(entry)} is missing: run \`npm run build\` at the repository root first\n`,
  );
  process.exit(1);
}
await import(entry.href);
