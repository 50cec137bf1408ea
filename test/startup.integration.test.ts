/**
 * Startup fails fast, with a message that names the thing: a missing secret stops the coordinator before it
 * touches anything, and an unreachable Redis stops it within seconds instead of hanging.
 */
import { expect, it } from 'vitest';
import { ensureBuilt, freePort, startProcess, stackEnv } from './processes.js';

it('a missing secret stops the coordinator with the variable named', async () => {
  ensureBuilt();
  const env = stackEnv('tileflow', 'startup', await freePort());
  const proc = startProcess('api', 'coordinator/dist/main.js', ['api'], { ...env, TILEFLOW_SESSION_SECRET: '' });
  expect(await proc.exited).toBe(2);
  expect(proc.output()).toContain('TILEFLOW_SESSION_SECRET: is required and has no default');
});

it('an unreachable Redis stops the coordinator with its address and what to check', { timeout: 60_000 }, async () => {
  ensureBuilt();
  const env = stackEnv('tileflow', 'startup', await freePort());
  const closed = await freePort();
  const proc = startProcess('api', 'coordinator/dist/main.js', ['api'], {
    ...env,
    TILEFLOW_REDIS_PORT: String(closed),
  });
  expect(await proc.exited).toBe(1);
  expect(proc.output()).toContain(`Redis at 127.0.0.1:${closed} did not answer`);
  expect(proc.output()).toContain('TILEFLOW_REDIS_PASSWORD');
});
