/**
 * The executor contract suite: what every executor (local processes, SLURM jobs) must do, run against real processes
 * and the real scheduler. `executorContract` registers the tests inside the calling test file:
 *
 *   executorContract('local', (events) => createLocalExecutor(events), { ... });
 *
 * Every test gets a fresh executor and a fresh folder; afterEach checks that nothing is left running and that no
 * run was reported twice or finished before it started.
 */
import { constants as fsConstants, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Executor, ExecutorEvents, PreparedRun, RunOutcome } from './types.js';

export interface ContractOptions {
  /**
   * How the executor reports a missing or non-executable script. 'failed-to-start': always that ending, with a
   * message naming the script. 'failed-to-start-or-failed-job': that, or the job ends 'exited' with a non-zero
   * exit code and its stderr file names the script (a cluster may only find out on the node).
   */
  badScript: 'failed-to-start' | 'failed-to-start-or-failed-job';
  /**
   * Whether cpuSeconds and peakMemoryMb are measured ('measured': numbers above zero for a script that burns CPU
   * and memory) or not given by the source ('not-reported': null, as SLURM without accounting storage).
   */
  resourceUsage: 'measured' | 'not-reported';
  /** Root of the test folders; scripts must see it where the executor runs them. Default: the system's temp folder. */
  workRoot?: string;
  /** Per-test time limit, ms (a cluster adds scheduling and its poll interval). Default 30,000. */
  testTimeoutMs?: number;
  /**
   * How long to keep listening after every run of a test has finished, ms, so that a second report of the same run
   * would be caught. For a polling executor: a few poll intervals. Default 500.
   */
  settleMs?: number;
  /** Longest wait for a killed process to disappear, ms (SLURM signals and cleans up asynchronously). Default 15,000. */
  goneWithinMs?: number;
}

/** Every event an executor emitted, in order. */
export interface Recorder {
  events: ExecutorEvents;
  log: Array<
    | { kind: 'started'; id: string; at: Date; clusterJobId?: string }
    | { kind: 'finished'; id: string; outcome: RunOutcome }
  >;
  /** Resolves with the run's outcome when it finishes (or already has). */
  finished(id: string): Promise<RunOutcome>;
  /** Resolves when the run has started (or already has). */
  started(id: string): Promise<void>;
}

export function createRecorder(): Recorder {
  const log: Recorder['log'] = [];
  const waiters: Array<() => void> = [];
  const notify = () => {
    for (const w of waiters.splice(0)) w();
  };
  const until = async <T>(pick: () => T | undefined): Promise<T> => {
    for (;;) {
      const v = pick();
      if (v !== undefined) return v;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return {
    log,
    events: {
      started(id, at, clusterJobId) {
        log.push({ kind: 'started', id, at, clusterJobId });
        notify();
      },
      finished(outcome) {
        log.push({ kind: 'finished', id: outcome.executionId, outcome });
        notify();
      },
    },
    finished: (id) =>
      until(
        () =>
          log.find(
            (e): e is Extract<Recorder['log'][number], { kind: 'finished' }> => e.kind === 'finished' && e.id === id,
          )?.outcome,
      ),
    started: (id) =>
      until(() => (log.some((e) => e.kind === 'started' && e.id === id) ? true : undefined)).then(() => undefined),
  };
}

/** Whether a process is gone: no such pid, or a zombie (dead, only not reaped by its new parent). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Polls `check` until it holds or `ms` pass; returns its last answer (the test asserts on it). */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Values that a shell would expand, split or cut if anything on the way went through one. */
export const TRICKY_VALUES = (dir: string): string[] => [
  'two words',
  "it's",
  '"double"',
  `$(touch ${dir}/pwned-subst)`,
  `\`touch ${dir}/pwned-backtick\``,
  `; touch ${dir}/pwned-semicolon`,
  '$HOME',
  'line one\nline two',
  '',
  '*',
  'back\\slash',
  'tab\there',
  "'",
  'é ✓',
  '-n',
];

export function executorContract(
  name: string,
  makeExecutor: (events: ExecutorEvents) => Executor,
  options: ContractOptions,
): void {
  const timeout = options.testTimeoutMs ?? 30_000;
  const settleMs = options.settleMs ?? 500;
  const goneWithinMs = options.goneWithinMs ?? 15_000;

  describe(`executor contract: ${name}`, () => {
    let dir: string;
    let rec: Recorder;
    let executor: Executor;
    let n = 0;

    beforeEach(async () => {
      dir = await fs.mkdtemp(path.join(options.workRoot ?? os.tmpdir(), `tileflow-contract-${name}-`));
      rec = createRecorder();
      executor = makeExecutor(rec.events);
    });

    afterEach(async () => {
      try {
        expect(executor.running()).toEqual([]);
        const finished = rec.log.filter((e) => e.kind === 'finished').map((e) => e.id);
        expect(finished.length, 'a run was reported finished twice').toBe(new Set(finished).size);
        const started = rec.log.filter((e) => e.kind === 'started').map((e) => e.id);
        expect(started.length, 'a run was reported started twice').toBe(new Set(started).size);
        for (const id of started) {
          const s = rec.log.findIndex((e) => e.kind === 'started' && e.id === id);
          const f = rec.log.findIndex((e) => e.kind === 'finished' && e.id === id);
          expect(f === -1 || s < f, `${id} finished before it started`).toBe(true);
        }
      } finally {
        await executor.close();
        await fs.rm(dir, { recursive: true, force: true });
      }
    });

    /** An executable bash script in the test folder. */
    const script = async (file: string, body: string, mode = 0o755): Promise<string> => {
      const p = path.join(dir, file);
      await fs.writeFile(p, `#!/bin/bash\n${body}\n`, { mode });
      await fs.chmod(p, mode);
      return p;
    };

    const run = (argv: string[], extra: Partial<PreparedRun> = {}): PreparedRun => {
      const executionId = `ct-${process.pid}-${Date.now().toString(36)}-${++n}`;
      return {
        executionId,
        argv,
        env: {},
        cwd: dir,
        stdoutPath: path.join(dir, 'logs', `${executionId}.out`),
        stderrPath: path.join(dir, 'logs', `${executionId}.err`),
        timeoutSeconds: null,
        clusterOptions: {},
        workUnits: 1,
        ...extra,
      };
    };

    /** Starts a run and waits for its outcome. */
    const runToEnd = async (r: PreparedRun): Promise<RunOutcome> => {
      await executor.start(r);
      return rec.finished(r.executionId);
    };

    /** Waits `settleMs`, then returns how often each id was reported finished. */
    const settledFinishCounts = async (): Promise<Map<string, number>> => {
      await new Promise((resolve) => setTimeout(resolve, settleMs));
      const counts = new Map<string, number>();
      for (const e of rec.log) if (e.kind === 'finished') counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
      return counts;
    };

    /** The pids a `sleeper` script wrote once they are all there (the script's own and its child's). */
    const pidsOf = async (file: string): Promise<number[]> => {
      let pids: number[] = [];
      const ok = await eventually(async () => {
        const text = await fs.readFile(file, 'utf8').catch(() => '');
        pids = text.split('\n').filter(Boolean).map(Number);
        return pids.length === 2;
      }, timeout);
      expect(ok, `the script never wrote its pids to ${file}`).toBe(true);
      return pids;
    };

    /** A script that records its pid and its child's, then waits for the child (a long sleep). */
    const sleeper = (pidFile: string) =>
      script(
        'sleeper.sh',
        `echo $$ > ${shq(pidFile)}.tmp; sleep 300 & echo $! >> ${shq(pidFile)}.tmp; mv ${shq(pidFile)}.tmp ${shq(pidFile)}; wait`,
      );

    it('exit 0: started once, then finished once with exit code 0', { timeout }, async () => {
      const r = run([await script('ok.sh', 'exit 0')]);
      const out = await runToEnd(r);
      expect(out).toMatchObject({ executionId: r.executionId, ending: 'exited', exitCode: 0, failureReason: null });
      const mine = rec.log.filter((e) => e.id === r.executionId).map((e) => e.kind);
      expect(mine).toEqual(['started', 'finished']);
      expect(out.startedAt).toBeInstanceOf(Date);
      expect(out.finishedAt.getTime()).toBeGreaterThanOrEqual(out.startedAt!.getTime());
      expect(executor.running()).toEqual([]);
    });

    it('exit 3: finished with exit code 3', { timeout }, async () => {
      const out = await runToEnd(run([await script('three.sh', 'exit 3')]));
      expect(out).toMatchObject({ ending: 'exited', exitCode: 3 });
    });

    it('argv arrives intact: spaces, quotes, $(), backticks, newlines, empty strings', { timeout }, async () => {
      const dump = path.join(dir, 'argv.bin');
      const values = TRICKY_VALUES(dir);
      const s = await script('argv.sh', 'out=$1; shift; printf \'%s\\0\' "$@" > "$out"');
      const out = await runToEnd(run([s, dump, ...values]));
      expect(out).toMatchObject({ ending: 'exited', exitCode: 0 });
      const got = (await fs.readFile(dump, 'utf8')).split('\0').slice(0, -1);
      expect(got).toEqual(values);
      for (const f of ['pwned-subst', 'pwned-backtick', 'pwned-semicolon']) {
        await expect(fs.access(path.join(dir, f)), `${f} was created: a value went through a shell`).rejects.toThrow();
      }
    });

    it('environment values arrive intact', { timeout }, async () => {
      const dump = path.join(dir, 'env.bin');
      const env = {
        TF_SPACES: 'a b  c',
        TF_QUOTES: `it's "q"`,
        TF_SUBST: `$(touch ${dir}/pwned-env)`,
        TF_NEWLINE: 'l1\nl2',
        TF_EMPTY: '',
        TF_UNICODE: 'é ✓',
      };
      const names = Object.keys(env);
      const s = await script('env.sh', `printf '%s\\0' ${names.map((k) => `"\${${k}-unset}"`).join(' ')} > "$1"`);
      const out = await runToEnd(run([s, dump], { env }));
      expect(out).toMatchObject({ ending: 'exited', exitCode: 0 });
      expect((await fs.readFile(dump, 'utf8')).split('\0').slice(0, -1)).toEqual(Object.values(env));
      await expect(fs.access(path.join(dir, 'pwned-env'))).rejects.toThrow();
    });

    it('stdout and stderr land in their files', { timeout }, async () => {
      const r = run([await script('io.sh', 'echo to-stdout; echo to-stderr >&2')]);
      const out = await runToEnd(r);
      expect(out).toMatchObject({ ending: 'exited', exitCode: 0 });
      expect(await fs.readFile(r.stdoutPath, 'utf8')).toBe('to-stdout\n');
      expect(await fs.readFile(r.stderrPath, 'utf8')).toBe('to-stderr\n');
    });

    it(
      '20 MB of output go to the file, not through the worker (its memory does not grow by it)',
      { timeout },
      async () => {
        const bytes = 20_000_000;
        const r = run([
          await script('big.sh', `head -c ${bytes} /dev/zero | tr '\\0' x; head -c 1000000 /dev/zero | tr '\\0' y >&2`),
        ]);
        const used = () => {
          const m = process.memoryUsage();
          // Buffers live outside the heap: a worker that collected the output as chunks would grow `external`.
          return m.heapUsed + m.external;
        };
        const before = used();
        const out = await runToEnd(r);
        const grown = used() - before;
        expect(out).toMatchObject({ ending: 'exited', exitCode: 0 });
        expect((await fs.stat(r.stdoutPath)).size).toBe(bytes);
        expect((await fs.stat(r.stderrPath)).size).toBe(1_000_000);
        // Holding the output (20 MB as a string or as buffers) would show here; the bookkeeping of one run is kilobytes.
        expect(grown).toBeLessThan(8 * 1024 * 1024);
      },
    );

    it('the working folder is honoured', { timeout }, async () => {
      const cwd = path.join(dir, 'work dir with spaces');
      await fs.mkdir(cwd);
      const dump = path.join(dir, 'pwd.txt');
      const out = await runToEnd(
        run([await script('pwd.sh', 'pwd -P > "$1"; echo here > relative.txt'), dump], { cwd }),
      );
      expect(out).toMatchObject({ ending: 'exited', exitCode: 0 });
      expect((await fs.readFile(dump, 'utf8')).trim()).toBe(await fs.realpath(cwd));
      expect(await fs.readFile(path.join(cwd, 'relative.txt'), 'utf8')).toBe('here\n');
    });

    it(
      'timeout: a script that outlives its timeout ends as timeout and is really gone',
      { timeout: timeout + goneWithinMs },
      async () => {
        const pidFile = path.join(dir, 'timeout.pids');
        const r = run([await sleeper(pidFile)], { timeoutSeconds: 2 });
        await executor.start(r);
        const pids = await pidsOf(pidFile);
        const out = await rec.finished(r.executionId);
        expect(out).toMatchObject({ ending: 'timeout', failureReason: 'timeout' });
        expect(await eventually(() => pids.every(processGone), goneWithinMs), `pids ${pids} still alive`).toBe(true);
      },
    );

    it(
      'cancel: a long-running script ends as canceled and is really gone',
      { timeout: timeout + goneWithinMs },
      async () => {
        const pidFile = path.join(dir, 'cancel.pids');
        const r = run([await sleeper(pidFile)]);
        await executor.start(r);
        const pids = await pidsOf(pidFile);
        await rec.started(r.executionId);
        expect(pids.some((p) => !processGone(p))).toBe(true);
        await executor.cancel(r.executionId);
        const out = await rec.finished(r.executionId);
        expect(out).toMatchObject({ ending: 'canceled', failureReason: 'canceled' });
        expect(await eventually(() => pids.every(processGone), goneWithinMs), `pids ${pids} still alive`).toBe(true);
      },
    );

    const expectBadScript = async (out: RunOutcome, r: PreparedRun, scriptPath: string) => {
      if (out.ending === 'failed-to-start') {
        expect(out.message ?? '').toContain(scriptPath);
        return;
      }
      expect(options.badScript, `ending ${out.ending}: ${out.message}`).toBe('failed-to-start-or-failed-job');
      expect(out.ending).toBe('exited');
      expect(out.exitCode).not.toBe(0);
      expect(out.exitCode).not.toBeNull();
      expect(`${out.message ?? ''}\n${await fs.readFile(r.stderrPath, 'utf8').catch(() => '')}`).toContain(scriptPath);
    };

    it('a missing script fails to start, naming the script', { timeout }, async () => {
      const missing = path.join(dir, 'no such script.sh');
      const r = run([missing, 'a']);
      const out = await runToEnd(r);
      await expectBadScript(out, r, missing);
      expect(out.failureReason === 'script-missing' || out.ending === 'exited').toBe(true);
    });

    it('a script without the execute bit fails to start, naming the script', { timeout }, async () => {
      const p = await script('not-executable.sh', 'exit 0', 0o644);
      await expect(fs.access(p, fsConstants.X_OK), 'the script is executable after all').rejects.toThrow();
      const r = run([p]);
      const out = await runToEnd(r);
      await expectBadScript(out, r, p);
      expect(out.failureReason === 'script-not-executable' || out.ending === 'exited').toBe(true);
    });

    it(
      '20 concurrent runs all finish, each exactly once, with their own exit code',
      { timeout: timeout * 2 },
      async () => {
        const s = await script('code.sh', 'sleep 0.$((RANDOM % 5)); exit "$1"');
        const runs = Array.from({ length: 20 }, (_, i) => run([s, String(i % 7)]));
        await Promise.all(runs.map((r) => executor.start(r)));
        const outs = await Promise.all(runs.map((r) => rec.finished(r.executionId)));
        outs.forEach((o, i) =>
          expect(o).toMatchObject({ executionId: runs[i].executionId, ending: 'exited', exitCode: i % 7 }),
        );
        const counts = await settledFinishCounts();
        for (const r of runs) expect(counts.get(r.executionId)).toBe(1);
        expect(executor.running()).toEqual([]);
      },
    );

    it('cpuSeconds and peakMemoryMb for a script that burns CPU and memory', { timeout }, async () => {
      // ~50 MB held by bash itself, and a busy loop of a few tenths of a second.
      const s = await script(
        'burn.sh',
        's=$(head -c 50000000 /dev/zero | tr "\\0" x); for ((i = 0; i < 300000; i++)); do :; done; echo ${#s}',
      );
      const r = run([s]);
      const out = await runToEnd(r);
      expect(out).toMatchObject({ ending: 'exited', exitCode: 0 });
      expect(await fs.readFile(r.stdoutPath, 'utf8')).toBe('50000000\n');
      if (options.resourceUsage === 'measured') {
        expect(out.cpuSeconds).toBeGreaterThan(0);
        expect(out.peakMemoryMb).toBeGreaterThan(40);
      } else {
        expect(out.cpuSeconds).toBeNull();
        expect(out.peakMemoryMb).toBeNull();
      }
    });
  });
}

/** Single-quotes a path for the test scripts. */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
