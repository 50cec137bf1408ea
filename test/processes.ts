/**
 * Tileflow's processes as real subprocesses (the built dist/), for chaos tests and benchmarks: they can be killed
 * with SIGKILL at any moment and started again, exactly as an operator's processes would be.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '..');

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Everything it printed (last 200 kB). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  exited: Promise<number | null>;
}

export function startProcess(name: string, script: string, args: string[], env: Record<string, string>): Proc {
  // TILEFLOW_CPU_PROF=DIR writes a V8 CPU profile of each process there when it exits (benchmark analysis).
  const prof = process.env.TILEFLOW_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.TILEFLOW_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, path.join(REPO, script), ...args], {
    env: { ...process.env, TILEFLOW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    name,
    child,
    output: () => out,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

export function ensureBuilt(): void {
  for (const f of ['coordinator/dist/main.js', 'worker/dist/main.js']) {
    if (!fs.existsSync(path.join(REPO, f))) throw new Error(`${f} is missing: run npx tsc -b first (npm test does)`);
  }
}

/** Environment for a coordinator and its workers on one database and queue prefix. */
export function stackEnv(database: string, prefix: string, port: number): Record<string, string> {
  const secret = () => randomBytes(24).toString('hex');
  return {
    TILEFLOW_DB_NAME: database,
    TILEFLOW_QUEUE_PREFIX: prefix,
    TILEFLOW_INFLUX_DATABASE: `t_${prefix.replace(/[^A-Za-z0-9]/g, '_')}`,
    TILEFLOW_API_HOST: '127.0.0.1',
    TILEFLOW_API_PORT: String(port),
    TILEFLOW_URL: `http://127.0.0.1:${port}`,
    TILEFLOW_SESSION_SECRET: secret(),
    TILEFLOW_WORKER_TOKEN: secret(),
    TILEFLOW_ADMIN_USER: 'admin',
    TILEFLOW_ADMIN_PASSWORD: secret(),
    TILEFLOW_INPUT_POLL_SECONDS: '0.25',
    TILEFLOW_SCHEDULER_TICK_MS: '250',
    TILEFLOW_WORKER_TIMEOUT_SECONDS: '4',
    TILEFLOW_QUEUED_RECHECK_SECONDS: '2',
    TILEFLOW_WORKER_HEARTBEAT_SECONDS: '0.25',
    TILEFLOW_KILL_GRACE_SECONDS: '1',
  };
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Waits until the coordinator answers /healthz. */
export async function waitHealthy(url: string, proc: Proc, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited:\n${proc.output()}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.name} did not become healthy:\n${proc.output()}`);
}
