/**
 * What only the SLURM executor does, against the project's single-node SLURM: SLURM's own time limit and deadline,
 * failures by signal, jobs cancelled outside Tileflow, cluster options reaching the job, refused submissions, job
 * arrays, one status query per poll, and a worker restart with reattach. The contract suite
 * (../slurm.contract.integration.test.ts) covers what every executor does.
 *
 * Out-of-memory cannot be provoked here: with ProctrackType=proctrack/linuxproc, TaskPlugin=task/none and no
 * JobAcctGather plugin, SLURM does not enforce --mem (a 300 MB job with --mem=10M completes). Its mapping is tested
 * on parsed output in states.test.ts.
 *
 * A job that has left squeue (MinJobAge = 300 s after its end) is read from the completion log; the test of that
 * path waits out MinJobAge and runs only with TILEFLOW_TEST_SLOW=1.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slurmConf } from '../../../../test/helpers.js';
import { createRecorder, eventually, type Recorder } from '../contract.js';
import type { PreparedRun } from '../types.js';
import { createJobCompReader } from './jobcomp.js';
import { createSlurmExecutor, type SlurmExecutor } from './index.js';
import type { SlurmExecutorOptions } from './options.js';

const conf = slurmConf();
const env = { ...process.env, SLURM_CONF: conf ?? '' };
const POLL = 0.5;

/** Runs a SLURM tool directly (the test's own view of the cluster). */
const slurm = (tool: string, args: string[]) => execFileSync(tool, args, { env, encoding: 'utf8' });
const jobState = (jobId: string) =>
  slurm('squeue', ['--noheader', '--array', '--states=all', '--Format=State:|', `--jobs=${jobId}`])
    .split('|')[0]
    .trim();
const showJob = (jobId: string) => slurm('scontrol', ['show', 'job', '-o', jobId]);

describe.skipIf(conf === null)('SLURM executor on the real SLURM', () => {
  let dir: string;
  let rec: Recorder;
  let n = 0;
  const executors: SlurmExecutor[] = [];

  const make = (options: SlurmExecutorOptions = {}, recorder = rec) => {
    const ex = createSlurmExecutor(recorder.events, { pollSeconds: POLL, env, ...options });
    executors.push(ex);
    return ex;
  };

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-slurm-'));
    rec = createRecorder();
  });

  afterEach(async () => {
    for (const ex of executors.splice(0)) {
      // Nothing of ours may be left in the queue.
      for (const id of ex.running()) await ex.cancel(id).catch(() => undefined);
      await ex.close();
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  const script = async (file: string, body: string, mode = 0o755) => {
    const p = path.join(dir, file);
    await fs.writeFile(p, `#!/bin/bash\n${body}\n`, { mode });
    await fs.chmod(p, mode);
    return p;
  };

  const run = (argv: string[], extra: Partial<PreparedRun> = {}, logDir = path.join(dir, 'logs')): PreparedRun => {
    const executionId = `it-${process.pid}-${Date.now().toString(36)}-${++n}`;
    return {
      executionId,
      argv,
      env: {},
      cwd: dir,
      stdoutPath: path.join(logDir, `${executionId}.out`),
      stderrPath: path.join(logDir, `${executionId}.err`),
      timeoutSeconds: null,
      clusterOptions: {},
      workUnits: 1,
      ...extra,
    };
  };

  it('SLURM TIMEOUT (its own time limit reached) ends as timeout', { timeout: 90_000 }, async () => {
    const ex = make();
    const r = run([await script('long.sh', 'sleep 300')]);
    const { clusterJobId } = await ex.start(r);
    await rec.started(r.executionId);
    // Time limits are whole minutes; setting it to 0 makes the controller's next limit check (every 30 s) end it.
    slurm('scontrol', ['update', `jobid=${clusterJobId}`, 'TimeLimit=0']);
    const out = await rec.finished(r.executionId);
    expect(out).toMatchObject({ ending: 'timeout', failureReason: 'timeout', clusterJobId });
    expect(out.message).toContain('TIMEOUT');
    expect(jobState(clusterJobId!)).toBe('TIMEOUT');
  });

  it(
    'DEADLINE: a job that cannot finish before its --deadline never starts and fails, naming the state',
    { timeout: 60_000 },
    async () => {
      const ex = make();
      const r = run([await script('ok.sh', 'exit 0')], {
        clusterOptions: { timeLimitMinutes: 10, extraArgs: ['--deadline=now+2'] },
      });
      const { clusterJobId } = await ex.start(r);
      const out = await rec.finished(r.executionId);
      expect(out).toMatchObject({ ending: 'failed-to-start', failureReason: 'timeout', startedAt: null, clusterJobId });
      expect(out.message).toContain('DEADLINE');
      expect(rec.log.some((e) => e.kind === 'started')).toBe(false);
    },
  );

  it('a script killed by a signal: FAILED with the signal, ending killed', { timeout: 30_000 }, async () => {
    const ex = make();
    const r = run([await script('kill.sh', 'kill -9 $$')]);
    await ex.start(r);
    const out = await rec.finished(r.executionId);
    expect(out).toMatchObject({ ending: 'killed', failureReason: 'signal', exitCode: null });
    expect(out.message).toContain('signal 9');
  });

  it('a job cancelled outside Tileflow ends as killed, not canceled', { timeout: 30_000 }, async () => {
    const ex = make();
    const r = run([await script('long.sh', 'sleep 300')]);
    const { clusterJobId } = await ex.start(r);
    await rec.started(r.executionId);
    slurm('scancel', [clusterJobId!]);
    const out = await rec.finished(r.executionId);
    expect(out).toMatchObject({ ending: 'killed', failureReason: 'signal' });
    expect(out.message).toContain('outside Tileflow');
  });

  it('cancel of a job still pending: canceled, never started', { timeout: 30_000 }, async () => {
    const ex = make();
    // --hold keeps it pending until released.
    const r = run([await script('ok.sh', 'exit 0')], { clusterOptions: { extraArgs: ['--hold'] } });
    const { clusterJobId } = await ex.start(r);
    expect(jobState(clusterJobId!)).toBe('PENDING');
    await ex.cancel(r.executionId);
    const out = await rec.finished(r.executionId);
    expect(out).toMatchObject({ ending: 'canceled', failureReason: 'canceled', startedAt: null });
    expect(rec.log.filter((e) => e.id === r.executionId).map((e) => e.kind)).toEqual(['finished']);
    expect(jobState(clusterJobId!)).toBe('CANCELLED');
  });

  it('cluster options reach the job: partition, CPUs, memory, time, extra arguments', { timeout: 30_000 }, async () => {
    const ex = make();
    const r = run([await script('ok.sh', 'exit 0')], {
      timeoutSeconds: 125,
      clusterOptions: { partition: 'debug', cpus: 2, memoryMb: 64, extraArgs: ['--hold', '--comment=tileflow-test'] },
    });
    const { clusterJobId } = await ex.start(r);
    const job = showJob(clusterJobId!);
    expect(job).toContain(`JobName=tileflow-${r.executionId} `);
    expect(job).toContain('Partition=debug ');
    expect(job).toContain('CPUs/Task=2 ');
    expect(job).toContain('MinMemoryNode=64M ');
    // 125 s rounded up to whole minutes.
    expect(job).toContain('TimeLimit=00:03:00 ');
    expect(job).toContain('Comment=tileflow-test ');
    expect(job).toContain(`StdOut=${r.stdoutPath} `);
    expect(job).toContain(`StdErr=${r.stderrPath} `);
    await ex.cancel(r.executionId);
    await rec.finished(r.executionId);
  });

  it('a refused submission (unknown partition) fails to start with sbatch’s message', { timeout: 30_000 }, async () => {
    const ex = make();
    const r = run([await script('ok.sh', 'exit 0')], { clusterOptions: { partition: 'no-such-partition' } });
    expect(await ex.start(r)).toEqual({});
    const out = await rec.finished(r.executionId);
    expect(out).toMatchObject({ ending: 'failed-to-start', failureReason: 'submit-failed', startedAt: null });
    expect(out.message).toMatch(/invalid partition/i);
    expect(ex.stats().submissions).toBe(1);
  });

  it(
    'extra arguments that would override the log files or job name are refused before sbatch',
    { timeout: 30_000 },
    async () => {
      const ex = make();
      const s = await script('ok.sh', 'exit 0');
      // Each case and the element the message must name.
      const cases: Array<[string[], string]> = [
        [['--output=/tmp/elsewhere'], '--output=/tmp/elsewhere'],
        [['--err=/tmp/x'], '--err=/tmp/x'],
        [['-J', 'other'], '-J'],
        [['--job-name=x'], '--job-name=x'],
        [['--chdir=/'], '--chdir=/'],
        [['--qos', 'short'], 'short'],
      ];
      const runs = cases.map(([extraArgs]) => run([s], { clusterOptions: { extraArgs } }));
      for (const r of runs) await ex.start(r);
      for (const [i, r] of runs.entries()) {
        const out = await rec.finished(r.executionId);
        expect(out).toMatchObject({ ending: 'failed-to-start', failureReason: 'submit-failed' });
        expect(out.message).toContain(JSON.stringify(cases[i][1]));
      }
      expect(ex.stats().submissions).toBe(0);
    },
  );

  it(
    'without the worker-side check, a missing or non-executable script fails on the node, named in stderr',
    { timeout: 30_000 },
    async () => {
      const ex = make({ checkScripts: false });
      const missing = run([path.join(dir, 'missing.sh')]);
      const notExec = run([await script('plain.sh', 'exit 0', 0o644)]);
      await ex.start(missing);
      await ex.start(notExec);
      const a = await rec.finished(missing.executionId);
      const b = await rec.finished(notExec.executionId);
      expect(a).toMatchObject({ ending: 'exited', exitCode: 127 });
      expect(await fs.readFile(missing.stderrPath, 'utf8')).toContain(`script ${missing.argv[0]} does not exist`);
      expect(b).toMatchObject({ ending: 'exited', exitCode: 126 });
      expect(await fs.readFile(notExec.stderrPath, 'utf8')).toContain(`script ${notExec.argv[0]} is not executable`);
    },
  );

  it('log folders with % and a backslash: the output still lands in the run’s files', { timeout: 30_000 }, async () => {
    const ex = make();
    const s = await script('io.sh', 'echo out; echo err >&2');
    const a = run([s], {}, path.join(dir, 'logs 100%j'));
    const b = run([s], {}, path.join(dir, 'logs back\\slash'));
    await ex.start(a);
    await ex.start(b);
    for (const r of [a, b]) {
      expect(await rec.finished(r.executionId)).toMatchObject({ ending: 'exited', exitCode: 0 });
      expect(await fs.readFile(r.stdoutPath, 'utf8')).toBe('out\n');
      expect(await fs.readFile(r.stderrPath, 'utf8')).toBe('err\n');
    }
  });

  it('one status query per poll interval, whatever the number of jobs', { timeout: 60_000 }, async () => {
    const ex = make();
    const s = await script('short.sh', 'sleep 1');
    const runs = Array.from({ length: 30 }, () => run([s]));
    await Promise.all(runs.map((r) => ex.start(r)));
    await Promise.all(runs.map((r) => rec.finished(r.executionId)));
    const stats = ex.stats();
    expect(stats.submissions).toBe(30);
    expect(stats.polls).toBeGreaterThan(1);
    expect(stats.statusQueries).toBe(stats.polls);
    // At least one poll covered many jobs at once: per-job querying would need 30 per poll.
    expect(stats.statusQueries).toBeLessThan(runs.length);
  });

  it(
    'job arrays: one sbatch for a burst, each task its own execution, output and exit code',
    { timeout: 60_000 },
    async () => {
      const ex = make();
      const s = await script('code.sh', 'echo "task $1"; echo "err $1" >&2; exit "$1"');
      const runs = Array.from({ length: 6 }, (_, i) => run([s, String(i)]));
      const pending = run([await script('long.sh', 'sleep 300')]);
      const ids = await ex.startMany([...runs, pending]);
      const arrayId = ids[0].clusterJobId!.split('_')[0];
      expect(ids.map((i) => i.clusterJobId)).toEqual([...runs, pending].map((_, i) => `${arrayId}_${i}`));
      expect(ex.stats().submissions).toBe(1);
      for (const [i, r] of runs.entries()) {
        const out = await rec.finished(r.executionId);
        expect(out).toMatchObject({ ending: 'exited', exitCode: i, clusterJobId: `${arrayId}_${i}` });
        expect(await fs.readFile(r.stdoutPath, 'utf8')).toBe(`task ${i}\n`);
        expect(await fs.readFile(r.stderrPath, 'utf8')).toBe(`err ${i}\n`);
      }
      // One task of the array can be cancelled on its own.
      await rec.started(pending.executionId);
      await ex.cancel(pending.executionId);
      expect(await rec.finished(pending.executionId)).toMatchObject({
        ending: 'canceled',
        clusterJobId: `${arrayId}_6`,
      });
    },
  );

  it(
    'job arrays: runs with different cluster options go into different arrays; a bad run fails alone',
    { timeout: 60_000 },
    async () => {
      const ex = make();
      const s = await script('ok.sh', 'exit 0');
      const small = [run([s]), run([s])];
      const big = [run([s], { clusterOptions: { cpus: 2 } }), run([s], { clusterOptions: { cpus: 2 } })];
      const bad = run([path.join(dir, 'missing.sh')]);
      const ids = await ex.startMany([small[0], big[0], bad, small[1], big[1]]);
      expect(ids[2]).toEqual({});
      expect(ex.stats().submissions).toBe(2);
      expect(ids[0].clusterJobId!.split('_')[0]).toBe(ids[3].clusterJobId!.split('_')[0]);
      expect(ids[1].clusterJobId!.split('_')[0]).toBe(ids[4].clusterJobId!.split('_')[0]);
      expect(ids[0].clusterJobId!.split('_')[0]).not.toBe(ids[1].clusterJobId!.split('_')[0]);
      for (const r of [...small, ...big])
        expect(await rec.finished(r.executionId)).toMatchObject({ ending: 'exited', exitCode: 0 });
      expect(await rec.finished(bad.executionId)).toMatchObject({
        ending: 'failed-to-start',
        failureReason: 'script-missing',
      });
    },
  );

  it(
    'worker restart: a new executor reattaches running jobs (single and array tasks) and reports each once',
    { timeout: 90_000 },
    async () => {
      const first = make();
      const gate = path.join(dir, 'gate');
      // The jobs run until the gate file appears, so that they are still running across the restart.
      const s = await script('gated.sh', `while [ ! -e ${JSON.stringify(gate)} ]; do sleep 0.2; done; exit "$1"`);
      const singles = [run([s, '0']), run([s, '4'])];
      const tasks = [run([s, '5']), run([s, '6'])];
      const quickGate = path.join(dir, 'quick-gate');
      const quick = run([
        await script('quick.sh', `while [ ! -e ${JSON.stringify(quickGate)} ]; do sleep 0.2; done; exit 7`),
      ]);
      const handed = [
        ...(await Promise.all([...singles, quick].map((r) => first.start(r)))),
        ...(await first.startMany(tasks)),
      ];
      await Promise.all(singles.map((r) => rec.started(r.executionId)));
      await first.close();
      const startedBefore = rec.log.length;

      // While no executor watches: `quick` finishes, then the gated jobs are released.
      const second = make({}, rec);
      const all = [...singles, quick, ...tasks];
      await fs.writeFile(quickGate, '');
      // It exits 7: FAILED.
      expect(await eventually(() => jobState(handed[2].clusterJobId!) === 'FAILED', 20_000)).toBe(true);
      await second.reattach(
        all.map((r, i) => ({
          executionId: r.executionId,
          clusterJobId: handed[i].clusterJobId!,
          stdoutPath: r.stdoutPath,
          stderrPath: r.stderrPath,
        })),
      );
      expect(second.running().sort()).toEqual(all.map((r) => r.executionId).sort());
      await fs.writeFile(gate, '');
      const outs = await Promise.all(all.map((r) => rec.finished(r.executionId)));
      expect(outs.map((o) => o.exitCode)).toEqual([0, 4, 7, 5, 6]);
      expect(outs.map((o) => o.clusterJobId)).toEqual(handed.map((h) => h.clusterJobId));
      // The closed executor reported nothing after close; each run finished exactly once.
      await new Promise((r) => setTimeout(r, 4 * POLL * 1000));
      const finished = rec.log.filter((e) => e.kind === 'finished').map((e) => e.id);
      expect(finished.sort()).toEqual(all.map((r) => r.executionId).sort());
      expect(rec.log.slice(0, startedBefore).every((e) => e.kind === 'started')).toBe(true);
      expect(second.running()).toEqual([]);
    },
  );

  it(
    'a job SLURM does not know (gone from squeue and from the completion log) is reported lost after the grace polls',
    { timeout: 30_000 },
    async () => {
      const ex = make({ lostAfterPolls: 3 });
      await ex.reattach([{ executionId: 'vanished-1', clusterJobId: '987654321', stdoutPath: null, stderrPath: null }]);
      const out = await rec.finished('vanished-1');
      expect(out).toMatchObject({ ending: 'lost', failureReason: 'worker-lost', clusterJobId: '987654321' });
      expect(out.message).toContain('vanished');
      const stats = ex.stats();
      expect(stats.statusQueries).toBe(3);
      // The completion log was read on each of those polls, and the controller asked for its path once.
      expect(stats.jobcompReads).toBe(3);
      expect(stats.configQueries).toBe(1);
    },
  );

  // slurm.conf keeps finished jobs in squeue for MinJobAge = 300 s: this one waits that long (TILEFLOW_TEST_SLOW=1).
  it.runIf(process.env.TILEFLOW_TEST_SLOW === '1')(
    'reattach after squeue forgot the jobs: the outcome comes from the completion log',
    { timeout: 900_000 },
    async () => {
      const first = make();
      const s = await script('code.sh', 'exit "$1"');
      const single = run([s, '3']);
      const tasks = [run([s, '0']), run([s, '2'])];
      const handed = [await first.start(single), ...(await first.startMany(tasks))];
      await first.close();
      const all = [single, ...tasks];
      const ids = handed.map((h) => h.clusterJobId!.split('_')[0]).join(',');
      const listed = () => {
        try {
          return (
            slurm('squeue', ['--noheader', '--array', '--states=all', '--Format=JobID:|', `--jobs=${ids}`]).trim() !==
            ''
          );
        } catch {
          return false; // "Invalid job id specified"
        }
      };
      expect(await eventually(() => !listed(), 840_000, 5_000), 'squeue still lists the jobs').toBe(true);
      // Its own recorder: whatever the first executor managed to report before close does not count.
      const rec2 = createRecorder();
      const second = make({}, rec2);
      await second.reattach(
        all.map((r, i) => ({
          executionId: r.executionId,
          clusterJobId: handed[i].clusterJobId!,
          stdoutPath: r.stdoutPath,
          stderrPath: r.stderrPath,
        })),
      );
      const outs = await Promise.all(all.map((r) => rec2.finished(r.executionId)));
      expect(outs.map((o) => [o.ending, o.exitCode])).toEqual([
        ['exited', 3],
        ['exited', 0],
        ['exited', 2],
      ]);
      expect(second.stats().jobcompReads).toBeGreaterThan(0);
    },
  );

  it(
    'the completion log as SLURM writes it: final state, exit code and array task of finished jobs',
    { timeout: 30_000 },
    async () => {
      const ex = make();
      const s = await script('code.sh', 'exit "$1"');
      const single = run([s, '3']);
      const arr = [run([s, '0']), run([s, '2'])];
      const a = await ex.start(single);
      const b = await ex.startMany(arr);
      for (const r of [single, ...arr]) await rec.finished(r.executionId);
      const loc = /^JobCompLoc\s*=\s*(\S+)/m.exec(slurm('scontrol', ['show', 'config']))![1];
      const keys = [a.clusterJobId!, b[0].clusterJobId!, b[1].clusterJobId!];
      const reader = createJobCompReader(loc);
      let records = new Map();
      expect(await eventually(async () => (records = await reader.read(new Set(keys))).size === 3, 10_000)).toBe(true);
      expect(records.get(keys[0])).toMatchObject({
        state: 'FAILED',
        exitCode: 3,
        name: `tileflow-${single.executionId}`,
        ranOnNode: true,
      });
      expect(records.get(keys[1])).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
      expect(records.get(keys[2])).toMatchObject({ state: 'FAILED', exitCode: 2 });
    },
  );
});
