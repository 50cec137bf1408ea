/**
 * Node side of launcher.py: one long-lived helper process per worker that spawns scripts (posix_spawn, setsid) and
 * reports their exit status with rusage. Requests and events are JSON lines.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { scriptEnvironment } from '../environment.js';

export interface SpawnRequest {
  id: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  stdout: string;
  stderr: string;
}

export type LauncherEvent =
  | { ev: 'spawned'; id: string; pid: number }
  | { ev: 'error'; id: string; errno: number; message: string }
  | {
      ev: 'exit';
      id: string;
      code: number | null;
      signal: number | null;
      utime: number;
      stime: number;
      maxrss_kb: number;
    };

/** Raised when the launcher helper cannot run (python3 missing) or died. */
export class LauncherError extends Error {
  readonly code = 'LAUNCHER';
}

/** The helper lives outside src/ so that the same path works from src (tests) and dist (three levels up). */
export const LAUNCHER_SCRIPT = path.join(import.meta.dirname, '..', '..', '..', 'launcher', 'launcher.py');

export interface Launcher {
  spawn(req: SpawnRequest): void;
  kill(id: string, signal: number): void;
  close(): Promise<void>;
}

/**
 * Starts the helper. `python` is the interpreter (TILEFLOW_PYTHON, default python3). If the helper dies, `onDeath`
 * is called: the worker treats its running scripts as lost (they keep running in their own sessions; the
 * coordinator retries them) and restarts the helper.
 */
export function startLauncher(
  onEvent: (e: LauncherEvent) => void,
  onDeath: (err: Error) => void,
  python = process.env.TILEFLOW_PYTHON ?? 'python3',
  script = LAUNCHER_SCRIPT,
): Launcher {
  // The launcher's environment is what every script inherits: the worker's, without its secrets.
  const child: ChildProcessWithoutNullStreams = spawn(python, ['-u', script], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: scriptEnvironment(process.env),
  });
  let closing = false;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      onEvent(JSON.parse(line) as LauncherEvent);
    } catch {
      /* not a protocol line */
    }
  });
  child.on('error', (err) => {
    if (!closing)
      onDeath(
        new LauncherError(
          `process launcher could not start (${python}): ${err.message}; install python3 or set TILEFLOW_PYTHON`,
        ),
      );
  });
  child.on('exit', (code, signal) => {
    if (!closing)
      onDeath(new LauncherError(`process launcher exited (code ${code}, signal ${signal}): ${stderr.trim()}`));
  });
  const send = (obj: unknown) => {
    if (!child.stdin.writable) throw new LauncherError('process launcher is not running');
    child.stdin.write(JSON.stringify(obj) + '\n');
  };
  return {
    spawn: (req) => send({ op: 'spawn', ...req }),
    kill: (id, signal) => send({ op: 'kill', id, signal }),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }),
  };
}
