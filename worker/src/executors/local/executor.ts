/**
 * Local executor: runs scripts as child processes of this machine through the launcher helper. Output goes
 * straight from the script to its log files (the worker never buffers it); timeouts and cancels signal the whole
 * process group, SIGTERM first and SIGKILL after a grace period.
 */
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ExecutionTarget, FailureReason } from '@tileflow/shared';
import type { Executor, ExecutorEvents, PreparedRun, RunOutcome } from '../types.js';
import { startLauncher, type Launcher, type LauncherEvent } from './launcher.js';

export interface LocalExecutorOptions {
  /** Seconds between SIGTERM and SIGKILL on timeout or cancel. Default 5. */
  killGraceSeconds?: number;
  python?: string;
}

interface Active {
  run: PreparedRun;
  startedAt: Date | null;
  timer?: NodeJS.Timeout;
  killTimer?: NodeJS.Timeout;
  /** Why we signalled it, if we did. */
  stopping?: 'timeout' | 'canceled';
}

/** Checks that the script exists and may be executed; returns the failure to report, if any. */
export async function checkScript(script: string): Promise<{ reason: FailureReason; message: string } | null> {
  try {
    const st = await fs.stat(script);
    if (!st.isFile()) return { reason: FailureReason.ScriptMissing, message: `Script ${script} is not a file` };
  } catch {
    return {
      reason: FailureReason.ScriptMissing,
      message: `Script ${script} does not exist: check the task definition's script path`,
    };
  }
  try {
    await fs.access(script, fsConstants.X_OK);
  } catch {
    return {
      reason: FailureReason.ScriptNotExecutable,
      message: `Script ${script} is not executable: run chmod +x on it`,
    };
  }
  return null;
}

/** How long a script found runnable is trusted before it is checked again (thousands of runs a minute share it). */
const SCRIPT_CHECK_TTL_MS = 2000;

export function createLocalExecutor(events: ExecutorEvents, options: LocalExecutorOptions = {}): Executor {
  const grace = (options.killGraceSeconds ?? 5) * 1000;
  const active = new Map<string, Active>();
  const scriptOk = new Map<string, number>();
  const madeDirs = new Set<string>();
  const ensureDir = async (dir: string) => {
    if (madeDirs.has(dir)) return;
    await fs.mkdir(dir, { recursive: true });
    if (madeDirs.size > 10_000) madeDirs.clear();
    madeDirs.add(dir);
  };
  const check = async (script: string) => {
    const until = scriptOk.get(script);
    if (until !== undefined && until > Date.now()) return null;
    const bad = await checkScript(script);
    if (bad) scriptOk.delete(script);
    else scriptOk.set(script, Date.now() + SCRIPT_CHECK_TTL_MS);
    return bad;
  };
  let launcher: Launcher;
  let closed = false;

  const finish = (id: string, outcome: Omit<RunOutcome, 'executionId' | 'finishedAt' | 'startedAt'>) => {
    const a = active.get(id);
    if (!a) return;
    active.delete(id);
    clearTimeout(a.timer);
    clearTimeout(a.killTimer);
    events.finished({ executionId: id, startedAt: a.startedAt, finishedAt: new Date(), ...outcome });
  };

  const onEvent = (e: LauncherEvent) => {
    const a = active.get(e.id);
    if (!a) return;
    switch (e.ev) {
      case 'spawned':
        a.startedAt = new Date();
        events.started(e.id, a.startedAt);
        break;
      case 'error':
        // A folder or script may have gone since it was cached: check everything again from now on.
        madeDirs.clear();
        scriptOk.clear();
        finish(e.id, {
          ending: 'failed-to-start',
          exitCode: null,
          failureReason:
            e.errno === 13 || e.errno === 8 ? FailureReason.ScriptNotExecutable : FailureReason.ScriptMissing,
          message: `Could not start the script: ${e.message}`,
          cpuSeconds: null,
          peakMemoryMb: null,
        });
        break;
      case 'exit': {
        const usage = { cpuSeconds: e.utime + e.stime, peakMemoryMb: e.maxrss_kb / 1024 };
        if (a.stopping) {
          finish(e.id, {
            ending: a.stopping,
            exitCode: e.code,
            failureReason: a.stopping === 'timeout' ? FailureReason.Timeout : FailureReason.Canceled,
            message:
              a.stopping === 'timeout'
                ? `Timed out after ${a.run.timeoutSeconds} s; its process group was killed`
                : 'Canceled; its process group was killed',
            ...usage,
          });
        } else if (e.signal !== null) {
          finish(e.id, {
            ending: 'killed',
            exitCode: null,
            failureReason: FailureReason.Signal,
            message:
              e.signal === 9
                ? 'Killed by SIGKILL (the kernel out-of-memory killer, or someone else)'
                : `Killed by signal ${e.signal}`,
            ...usage,
          });
        } else {
          finish(e.id, { ending: 'exited', exitCode: e.code, failureReason: null, message: null, ...usage });
        }
        break;
      }
    }
  };

  const onDeath = (err: Error) => {
    // Scripts keep running in their own sessions, but we can no longer see their end: report them lost.
    for (const id of [...active.keys()]) {
      finish(id, {
        ending: 'lost',
        exitCode: null,
        failureReason: FailureReason.WorkerLost,
        message: err.message,
        cpuSeconds: null,
        peakMemoryMb: null,
      });
    }
    if (!closed) launcher = startLauncher(onEvent, onDeath, options.python);
  };
  launcher = startLauncher(onEvent, onDeath, options.python);

  const signal = (id: string, why: 'timeout' | 'canceled') => {
    const a = active.get(id);
    if (!a || a.stopping) return;
    a.stopping = why;
    launcher.kill(id, 15);
    a.killTimer = setTimeout(() => {
      if (active.has(id)) launcher.kill(id, 9);
    }, grace);
  };

  return {
    target: ExecutionTarget.Local,
    async start(run) {
      const bad = await check(run.argv[0]);
      active.set(run.executionId, { run, startedAt: null });
      if (bad) {
        finish(run.executionId, {
          ending: 'failed-to-start',
          exitCode: null,
          failureReason: bad.reason,
          message: bad.message,
          cpuSeconds: null,
          peakMemoryMb: null,
        });
        return {};
      }
      await ensureDir(path.dirname(run.stdoutPath));
      await ensureDir(path.dirname(run.stderrPath));
      await ensureDir(run.cwd);
      const a = active.get(run.executionId);
      if (!a) return {};
      if (run.timeoutSeconds) a.timer = setTimeout(() => signal(run.executionId, 'timeout'), run.timeoutSeconds * 1000);
      launcher.spawn({
        id: run.executionId,
        argv: run.argv,
        env: run.env,
        cwd: run.cwd,
        stdout: run.stdoutPath,
        stderr: run.stderrPath,
      });
      return {};
    },
    async cancel(executionId) {
      signal(executionId, 'canceled');
    },
    async reattach() {
      // Local processes do not survive their worker's restart in a way it can watch: nothing to take over.
    },
    running: () => [...active.keys()],
    async close() {
      closed = true;
      await launcher.close();
    },
  };
}
