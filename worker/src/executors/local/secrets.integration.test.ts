import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { RunOutcome } from '../types.js';
import { createLocalExecutor } from './executor.js';

const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-secrets-'));
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

it("scripts do not inherit the worker's secrets, but do get the rest of its environment", async () => {
  process.env.TILEFLOW_WORKER_TOKEN = 'worker-token-that-must-not-leak';
  process.env.TILEFLOW_REDIS_PASSWORD = 'redis-password-that-must-not-leak';
  process.env.TILEFLOW_HARMLESS = 'visible';
  const script = path.join(dir, 'env.sh');
  await fs.writeFile(script, '#!/bin/sh\nenv > "$1"\n', { mode: 0o755 });
  const done = new Promise<RunOutcome>((resolve) => {
    const ex = createLocalExecutor({ started() {}, finished: (o) => void ex.close().then(() => resolve(o)) });
    void ex.start({
      executionId: 'e',
      argv: [script, path.join(dir, 'env.txt')],
      env: { TASK_PARAM: 'given' },
      cwd: dir,
      stdoutPath: path.join(dir, 'out.log'),
      stderrPath: path.join(dir, 'err.log'),
      timeoutSeconds: null,
      clusterOptions: {},
      workUnits: 1,
    });
  });
  expect((await done).exitCode).toBe(0);
  const env = await fs.readFile(path.join(dir, 'env.txt'), 'utf8');
  expect(env).not.toContain('must-not-leak');
  expect(env).toContain('TILEFLOW_HARMLESS=visible');
  expect(env).toContain('TASK_PARAM=given');
});
