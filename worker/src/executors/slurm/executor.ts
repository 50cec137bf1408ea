/**
 * SLURM executor: each run becomes a batch job (sbatch), described by a generated bash job script next to its log
 * files. All of the executor's jobs are tracked with one squeue per poll interval, whatever their number; a job that
 * has left squeue (MinJobAge after its end) is looked up in the completion log (jobcomp/filetxt), read
 * incrementally, once per poll and only when a job is missing. Jobs survive the worker: a new executor takes them
 * over with reattach().
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ExecutionTarget, FailureReason } from '@tileflow/shared';
import { checkScript } from '../local/executor.js';
import type { Executor, ExecutorEvents, PreparedRun, RunOutcome } from '../types.js';
import { createCommandRunner, type CommandRunner, type SlurmCommandStats } from './commands.js';
import { SlurmError, SlurmErrorCode } from './errors.js';
import { createJobCompReader, type JobCompReader } from './jobcomp.js';
import {
  clusterArgs,
  jobEnvironment,
  readSlurmExecutorOptions,
  slurmOutputPath,
  type SlurmExecutorOptions,
} from './options.js';
import { renderArrayScript, renderJobScript, checkRunForScript } from './shell.js';
import {
  outcomeOf,
  parseSqueueOutput,
  phaseOf,
  SQUEUE_FORMAT,
  type FinalOutcome,
  type JobRecord,
  type StopIntent,
} from './states.js';

export interface SlurmExecutorStats extends SlurmCommandStats {
  /** Poll intervals in which there were jobs to ask about (each issues exactly one squeue). */
  polls: number;
  /** Reads of the completion log (at most one per poll, only when a job is missing from squeue). */
  jobcompReads: number;
  /** Jobs tracked right now. */
  tracked: number;
  /** The last error the executor recovered from, if any. */
  lastError: string | null;
}

export interface SlurmExecutor extends Executor {
  /** Submits runs as job arrays (one sbatch per group of runs with the same cluster options). */
  startMany(runs: PreparedRun[]): Promise<Array<{ clusterJobId?: string }>>;
  /** Counts of what the executor asked SLURM, for the benchmark and the tests. */
  stats(): SlurmExecutorStats;
}

/** A job the executor follows. */
interface Tracked {
  executionId: string;
  /** The cluster job id: `123`, or `123_4` for an array task. */
  key: string;
  /** What squeue is asked for: the job id, or the array's id. */
  queryId: string;
  /** The job's name, when known: a job with the same id and another name is not ours. */
  expectedName: string | null;
  timeoutSeconds: number | null;
  startedAt: Date | null;
  intent: StopIntent;
  /** Polls in a row in which the job was neither in squeue nor in the completion log. */
  missingPolls: number;
}

/** An execution between start() and its job id. */
interface Submitting {
  cancel: boolean;
}

const EXECUTION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CLUSTER_JOB_ID = /^\d+(_\d+)?$/;
/** scancel's answers for a job that is over: nothing to cancel, its final state is on its way. */
const ALREADY_OVER = /already completing or completed|Invalid job id/i;

const jobName = (executionId: string) => `tileflow-${executionId}`;

/** Resolves when fewer than `limit` holders hold it. */
function semaphore(limit: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export function createSlurmExecutor(events: ExecutorEvents, options: SlurmExecutorOptions = {}): SlurmExecutor {
  const fromEnv = readSlurmExecutorOptions();
  const pollMs = (options.pollSeconds ?? fromEnv.pollSeconds ?? 2) * 1000;
  const lostAfterPolls = options.lostAfterPolls ?? fromEnv.lostAfterPolls ?? 3;
  const arrayTaskLimit = options.arrayTaskLimit ?? fromEnv.arrayTaskLimit;
  const maxArraySize = options.maxArraySize ?? 1000;
  const checkScripts = options.checkScripts ?? true;
  const commandEnv = options.env ?? process.env;
  const submitEnv = jobEnvironment(commandEnv);
  const warn = (err: Error) => {
    lastError = err.message;
    options.logger?.warn({ err: err.message, code: (err as Partial<SlurmError>).code }, 'SLURM executor');
  };
  const runner: CommandRunner = createCommandRunner({
    paths: {
      sbatch: options.sbatchPath ?? 'sbatch',
      squeue: options.squeuePath ?? 'squeue',
      scancel: options.scancelPath ?? 'scancel',
      scontrol: options.scontrolPath ?? 'scontrol',
    },
    env: commandEnv,
    timeoutSeconds: options.commandTimeoutSeconds ?? 60,
  });
  const submitLimit = semaphore(options.maxConcurrentSubmissions ?? 8);

  const tracked = new Map<string, Tracked>();
  const submitting = new Map<string, Submitting>();
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | null = null;
  let polls = 0;
  let jobcompReads = 0;
  let lastError: string | null = null;
  /** undefined: not looked up yet. */
  let jobcomp: JobCompReader | null | undefined =
    options.jobCompLoc === null ? null : options.jobCompLoc ? createJobCompReader(options.jobCompLoc) : undefined;

  // --- events -----------------------------------------------------------------------------------------------------

  const emitStarted = (t: Tracked, at: Date) => {
    t.startedAt = at;
    if (!closed) events.started(t.executionId, at, t.key);
  };

  /** Finishes a run that never became a job. */
  const finishWithoutJob = (executionId: string, outcome: FinalOutcome) => {
    if (!closed) events.finished({ executionId, startedAt: null, finishedAt: new Date(), ...outcome });
  };

  const untrack = (t: Tracked): boolean => {
    if (tracked.get(t.executionId) !== t) return false;
    tracked.delete(t.executionId);
    jobcomp?.forget([t.key]);
    return true;
  };

  const finishTracked = (t: Tracked, outcome: FinalOutcome, finishedAt: Date) => {
    if (!untrack(t)) return;
    const end = t.startedAt && finishedAt < t.startedAt ? t.startedAt : finishedAt;
    const result: RunOutcome = {
      executionId: t.executionId,
      startedAt: t.startedAt,
      finishedAt: end,
      ...outcome,
      clusterJobId: t.key,
    };
    if (!closed) events.finished(result);
  };

  // --- polling ----------------------------------------------------------------------------------------------------

  const schedulePoll = () => {
    if (closed || timer || polling || tracked.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      polling = poll()
        .catch((err: unknown) => warn(err instanceof Error ? err : new Error(String(err))))
        .finally(() => {
          polling = null;
          schedulePoll();
        });
    }, pollMs);
  };

  const findJobComp = async (): Promise<JobCompReader | null> => {
    if (jobcomp !== undefined) return jobcomp;
    const res = await runner.run('scontrol', ['show', 'config']);
    if (res.code !== 0)
      throw new SlurmError(SlurmErrorCode.CommandFailed, `scontrol show config failed: ${res.stderr.trim()}`);
    const value = (key: string) => new RegExp(`^${key}\\s*=\\s*(.*)$`, 'm').exec(res.stdout)?.[1]?.trim();
    const type = value('JobCompType');
    const loc = value('JobCompLoc');
    jobcomp = type === 'jobcomp/filetxt' && loc && loc.startsWith('/') ? createJobCompReader(loc) : null;
    return jobcomp;
  };

  const nameMatches = (t: Tracked, r: JobRecord) =>
    t.expectedName === null || r.name === null || r.name === t.expectedName;

  const apply = (t: Tracked, r: JobRecord, now: number) => {
    const phase = phaseOf(r.state);
    if (phase === 'pending') return;
    if (phase === 'running') {
      if (!t.startedAt) emitStarted(t, r.startTime ?? new Date(now));
      const startedAt = t.startedAt;
      if (
        t.timeoutSeconds &&
        !t.intent &&
        r.state === 'RUNNING' &&
        startedAt &&
        now >= startedAt.getTime() + t.timeoutSeconds * 1000
      ) {
        // SLURM's own limit is in whole minutes and checked every 30 s: Tileflow keeps the run's deadline itself.
        stop(t, 'timeout').catch(warn);
      }
      return;
    }
    if (!t.startedAt && r.ranOnNode) emitStarted(t, r.startTime ?? r.endTime ?? new Date(now));
    finishTracked(t, outcomeOf(r, t.intent, t.timeoutSeconds), r.endTime ?? new Date(now));
  };

  const missing = (t: Tracked) => {
    t.missingPolls++;
    if (t.missingPolls < lostAfterPolls) return;
    finishTracked(
      t,
      {
        ending: 'lost',
        exitCode: null,
        failureReason: FailureReason.WorkerLost,
        message: `SLURM job ${t.key} vanished: it has been neither in squeue nor in the completion log for ${t.missingPolls} polls`,
        cpuSeconds: null,
        peakMemoryMb: null,
      },
      new Date(),
    );
  };

  async function poll(): Promise<void> {
    const jobs = [...tracked.values()];
    if (jobs.length === 0) return;
    polls++;
    const ids = [...new Set(jobs.map((t) => t.queryId))].join(',');
    // One argv element may not exceed 128 KiB: past that, ask for all of this user's jobs instead.
    const select = ids.length > 100_000 ? ['--me'] : [`--jobs=${ids}`];
    const res = await runner.run('squeue', [
      '--noheader',
      '--array',
      '--states=all',
      `--Format=${SQUEUE_FORMAT}`,
      ...select,
    ]);
    let records: Map<string, JobRecord>;
    if (res.code === 0) records = parseSqueueOutput(res.stdout);
    // squeue asked about one job that it no longer knows fails instead of printing nothing.
    else if (/Invalid job id specified/i.test(res.stderr)) records = new Map();
    else throw new SlurmError(SlurmErrorCode.CommandFailed, `squeue failed (exit ${res.code}): ${res.stderr.trim()}`);

    const now = Date.now();
    const absent: Tracked[] = [];
    for (const t of jobs) {
      if (tracked.get(t.executionId) !== t) continue;
      const r = records.get(t.key);
      if (r && nameMatches(t, r)) {
        t.missingPolls = 0;
        apply(t, r, now);
      } else absent.push(t);
    }
    if (absent.length === 0) return;
    const reader = await findJobComp().catch((err: Error) => {
      warn(err);
      return null;
    });
    let done = new Map<string, JobRecord>();
    if (reader) {
      jobcompReads++;
      done = await reader.read(new Set(absent.map((t) => t.key)));
    }
    for (const t of absent) {
      if (tracked.get(t.executionId) !== t) continue;
      const r = done.get(t.key);
      if (r && nameMatches(t, r) && phaseOf(r.state) === 'final') apply(t, r, now);
      else missing(t);
    }
  }

  // --- cancel -----------------------------------------------------------------------------------------------------

  /** scancel; the run finishes when SLURM reports the job over. */
  async function stop(t: Tracked, intent: 'canceled' | 'timeout'): Promise<void> {
    if (t.intent) return;
    t.intent = intent;
    const res = await runner.run('scancel', [t.key]);
    if (res.code !== 0 && !ALREADY_OVER.test(res.stderr)) {
      t.intent = undefined;
      throw new SlurmError(
        SlurmErrorCode.CommandFailed,
        `scancel ${t.key} failed (exit ${res.code}): ${res.stderr.trim()}`,
      );
    }
  }

  // --- submission -------------------------------------------------------------------------------------------------

  const failedToStart = (reason: FailureReason, message: string): FinalOutcome => ({
    ending: 'failed-to-start',
    exitCode: null,
    failureReason: reason,
    message,
    cpuSeconds: null,
    peakMemoryMb: null,
  });

  /** The job script path of a run: next to its stdout file. */
  const scriptPathOf = (run: PreparedRun) => path.join(path.dirname(run.stdoutPath), `${run.executionId}.sbatch`);

  /**
   * Checks a run and writes its job script. Returns the sbatch arguments of its cluster options, or the outcome
   * that finishes it without a job.
   */
  async function prepare(
    run: PreparedRun,
    inArray: boolean,
  ): Promise<{ resources: string[]; script: string; redirect: boolean } | { outcome: FinalOutcome }> {
    let resources: string[];
    try {
      resources = clusterArgs(run.clusterOptions ?? {}, run.timeoutSeconds);
      const problem = checkRunForScript(run);
      if (problem) throw new SlurmError(SlurmErrorCode.InvalidRun, problem);
    } catch (err) {
      if (err instanceof SlurmError)
        return { outcome: failedToStart(FailureReason.SubmitFailed, `Cannot submit to SLURM: ${err.message}`) };
      throw err;
    }
    if (checkScripts) {
      const bad = await checkScript(run.argv[0]);
      if (bad) return { outcome: failedToStart(bad.reason, bad.message) };
    }
    const redirect = inArray || slurmOutputPath(run.stdoutPath) === null || slurmOutputPath(run.stderrPath) === null;
    await fs.mkdir(path.dirname(run.stdoutPath), { recursive: true });
    await fs.mkdir(path.dirname(run.stderrPath), { recursive: true });
    await fs.mkdir(run.cwd, { recursive: true });
    const script = scriptPathOf(run);
    await fs.writeFile(script, renderJobScript(run, { redirectOutput: redirect }), { mode: 0o755 });
    return { resources, script, redirect };
  }

  /** sbatch; the job id, or the outcome of a refused submission. */
  async function sbatch(args: string[]): Promise<{ jobId: string } | { outcome: FinalOutcome }> {
    const res = await submitLimit(() => runner.run('sbatch', ['--parsable', ...args], submitEnv));
    if (res.code !== 0) {
      const stderr = res.stderr.trim() || `sbatch exited with ${res.code}`;
      return { outcome: failedToStart(FailureReason.SubmitFailed, stderr) };
    }
    // --parsable prints `jobid` or `jobid;cluster`.
    const jobId = res.stdout.trim().split(';')[0];
    if (!/^\d+$/.test(jobId)) {
      throw new SlurmError(
        SlurmErrorCode.UnexpectedOutput,
        `sbatch --parsable printed ${JSON.stringify(res.stdout.trim())}, not a job id`,
      );
    }
    return { jobId };
  }

  const track = (t: Omit<Tracked, 'startedAt' | 'intent' | 'missingPolls'>, cancel: boolean) => {
    const entry: Tracked = { ...t, startedAt: null, intent: undefined, missingPolls: 0 };
    if (closed) return; // the next daemon takes it over by reattach
    tracked.set(entry.executionId, entry);
    if (cancel) stop(entry, 'canceled').catch(warn);
    schedulePoll();
  };

  const guard = (run: PreparedRun) => {
    if (closed) throw new SlurmError(SlurmErrorCode.Closed, 'the SLURM executor is closed');
    if (!EXECUTION_ID.test(run.executionId))
      throw new SlurmError(
        SlurmErrorCode.InvalidRun,
        `execution id ${JSON.stringify(run.executionId)} is not usable as a job name`,
      );
    if (tracked.has(run.executionId) || submitting.has(run.executionId)) {
      throw new SlurmError(SlurmErrorCode.InvalidRun, `execution ${run.executionId} is already running`);
    }
  };

  /** Keeps close() waiting for submissions under way. */
  const hold = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    void p.then(
      () => inFlight.delete(p),
      () => inFlight.delete(p),
    );
    return p;
  };

  async function startOne(run: PreparedRun): Promise<{ clusterJobId?: string }> {
    guard(run);
    const sub: Submitting = { cancel: false };
    submitting.set(run.executionId, sub);
    try {
      const prepared = await prepare(run, false);
      if ('outcome' in prepared) {
        finishWithoutJob(run.executionId, prepared.outcome);
        return {};
      }
      const out = prepared.redirect ? '/dev/null' : slurmOutputPath(run.stdoutPath);
      const err = prepared.redirect ? '/dev/null' : slurmOutputPath(run.stderrPath);
      const submitted = await sbatch([
        `--job-name=${jobName(run.executionId)}`,
        `--output=${out}`,
        `--error=${err}`,
        '--open-mode=append',
        `--chdir=${run.cwd}`,
        ...prepared.resources,
        prepared.script,
      ]);
      if ('outcome' in submitted) {
        finishWithoutJob(run.executionId, submitted.outcome);
        return {};
      }
      submitting.delete(run.executionId);
      track(
        {
          executionId: run.executionId,
          key: submitted.jobId,
          queryId: submitted.jobId,
          expectedName: jobName(run.executionId),
          timeoutSeconds: run.timeoutSeconds,
        },
        sub.cancel,
      );
      return { clusterJobId: submitted.jobId };
    } finally {
      submitting.delete(run.executionId);
    }
  }

  async function startArray(
    runs: PreparedRun[],
    results: Array<{ clusterJobId?: string }>,
    indexes: number[],
  ): Promise<void> {
    const subs = runs.map(() => ({ cancel: false }));
    runs.forEach((run, i) => submitting.set(run.executionId, subs[i]));
    try {
      const ready: Array<{ run: PreparedRun; index: number; sub: Submitting; script: string }> = [];
      let resources: string[] = [];
      for (const [i, run] of runs.entries()) {
        const prepared = await prepare(run, true);
        if ('outcome' in prepared) {
          submitting.delete(run.executionId);
          finishWithoutJob(run.executionId, prepared.outcome);
          results[indexes[i]] = {};
          continue;
        }
        resources = prepared.resources;
        ready.push({ run, index: indexes[i], sub: subs[i], script: prepared.script });
      }
      if (ready.length === 0) return;
      const first = ready[0].run;
      const dir = path.dirname(first.stdoutPath);
      const manifest = path.join(dir, `tileflow-array-${first.executionId}.manifest`);
      const arrayScript = path.join(dir, `tileflow-array-${first.executionId}.sbatch`);
      await fs.writeFile(manifest, ready.map((r) => r.script + '\0').join(''));
      await fs.writeFile(arrayScript, renderArrayScript(manifest, ready.length), { mode: 0o755 });
      const name = `tileflow-array-${first.executionId}`;
      const submitted = await sbatch([
        `--job-name=${name}`,
        // Each task's job script sends its output to its run's files; SLURM's own messages have nowhere to go.
        '--output=/dev/null',
        '--error=/dev/null',
        `--array=0-${ready.length - 1}${arrayTaskLimit ? `%${arrayTaskLimit}` : ''}`,
        `--chdir=${dir}`,
        ...resources,
        arrayScript,
      ]);
      for (const [task, r] of ready.entries()) {
        submitting.delete(r.run.executionId);
        if ('outcome' in submitted) {
          finishWithoutJob(r.run.executionId, submitted.outcome);
          results[r.index] = {};
          continue;
        }
        const key = `${submitted.jobId}_${task}`;
        track(
          {
            executionId: r.run.executionId,
            key,
            queryId: submitted.jobId,
            expectedName: name,
            timeoutSeconds: r.run.timeoutSeconds,
          },
          r.sub.cancel,
        );
        results[r.index] = { clusterJobId: key };
      }
    } finally {
      for (const run of runs) submitting.delete(run.executionId);
    }
  }

  return {
    target: ExecutionTarget.Cluster,

    start(run) {
      return hold(startOne(run));
    },

    startMany(runs) {
      return hold(
        (async () => {
          const results: Array<{ clusterJobId?: string }> = new Array(runs.length);
          // One array per group of runs that ask for the same resources (sbatch options apply to the whole array).
          const groups = new Map<string, number[]>();
          runs.forEach((run, i) => {
            guard(run);
            if (runs.findIndex((r) => r.executionId === run.executionId) !== i) {
              throw new SlurmError(SlurmErrorCode.InvalidRun, `execution ${run.executionId} is given twice`);
            }
            let key: string;
            try {
              key = JSON.stringify(clusterArgs(run.clusterOptions ?? {}, run.timeoutSeconds));
            } catch {
              key = `invalid:${i}`; // prepare() finishes it with the reason
            }
            groups.set(key, [...(groups.get(key) ?? []), i]);
          });
          const work: Array<Promise<unknown>> = [];
          for (const indexes of groups.values()) {
            for (let at = 0; at < indexes.length; at += maxArraySize) {
              const chunk = indexes.slice(at, at + maxArraySize);
              if (chunk.length === 1) {
                work.push(startOne(runs[chunk[0]]).then((r) => (results[chunk[0]] = r)));
              } else {
                work.push(
                  startArray(
                    chunk.map((i) => runs[i]),
                    results,
                    chunk,
                  ),
                );
              }
            }
          }
          await Promise.all(work);
          return results;
        })(),
      );
    },

    async cancel(executionId) {
      const sub = submitting.get(executionId);
      if (sub) {
        sub.cancel = true;
        return;
      }
      const t = tracked.get(executionId);
      if (t) await stop(t, 'canceled');
    },

    async reattach(runs) {
      if (closed) throw new SlurmError(SlurmErrorCode.Closed, 'the SLURM executor is closed');
      for (const r of runs) {
        if (tracked.has(r.executionId) || submitting.has(r.executionId)) continue;
        if (!CLUSTER_JOB_ID.test(r.clusterJobId)) {
          finishWithoutJob(r.executionId, {
            ending: 'lost',
            exitCode: null,
            failureReason: FailureReason.WorkerLost,
            message: `Cannot take over cluster job ${JSON.stringify(r.clusterJobId)}: not a SLURM job id`,
            cpuSeconds: null,
            peakMemoryMb: null,
            clusterJobId: r.clusterJobId,
          });
          continue;
        }
        const isTask = r.clusterJobId.includes('_');
        track(
          {
            executionId: r.executionId,
            key: r.clusterJobId,
            queryId: r.clusterJobId.split('_')[0],
            // An array's name is not known here; a single job's is.
            expectedName: isTask ? null : jobName(r.executionId),
            // SLURM's own --time still applies; the finer deadline of the previous daemon is not known here.
            timeoutSeconds: null,
          },
          false,
        );
      }
      // Jobs that ended while no daemon watched may be anywhere in the completion log.
      jobcomp?.rewind();
    },

    running: () => [...submitting.keys(), ...tracked.keys()],

    stats: () => ({ ...runner.stats, polls, jobcompReads, tracked: tracked.size, lastError }),

    async close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      await Promise.allSettled([...inFlight]);
      await polling;
    },
  };
}
