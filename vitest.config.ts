import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { fileURLToPath } from 'node:url';
import { defineConfig, type TestProjectConfiguration } from 'vitest/config';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// The repository's .env, for `npx vitest` run by hand (scripts/test.sh has loaded it already). As in the CLI's
// loadCliEnv, a variable set to a non-empty value in the environment wins and empty values count as unset.
if (existsSync(here('.env'))) {
  for (const [key, value] of Object.entries(parseEnv(readFileSync(here('.env'), 'utf8')))) {
    if (value !== '' && !process.env[key]) process.env[key] = value;
  }
}

const projects: TestProjectConfiguration[] = [
  {
    resolve: { alias: [{ find: /^@tileflow\/shared$/, replacement: here('shared/src/index.ts') }] },
    test: {
      name: 'node',
      root: here('.'),
      environment: 'node',
      include: [
        'shared/src/**/*.test.ts',
        'coordinator/src/**/*.test.ts',
        'worker/src/**/*.test.ts',
        'test/**/*.test.ts',
      ],
      exclude: ['**/node_modules/**', '**/dist/**', 'bench/**', '.data/**'],
      // Child processes, not threads: tests spawn daemons and scripts, and native addons need their own process.
      pool: 'forks',
      // Starts PostgreSQL, Redis, InfluxDB (and SLURM unless TILEFLOW_TEST_SLURM=0) and builds the migrated template.
      globalSetup: ['test/global-setup.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
    },
  },
];

// The web client's component tests (jsdom) live in their own project with their own config.
if (existsSync(here('client/vitest.config.ts'))) projects.push('client/vitest.config.ts');

export default defineConfig({
  test: {
    projects,
  },
});
