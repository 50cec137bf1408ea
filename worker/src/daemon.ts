/**
 * The worker daemon. Lifecycle: starting → running ⇄ paused; running → draining → stopped; SIGTERM drains.
 *
 * Loop: take jobs from the stage queues the coordinator offers (BullMQ, non-blocking, downstream stages first) while
 * there is room in work units; claim them in Postgres through the API (a refused claim is never run); run them
 * on the local or the cluster executor; report the outcome in batches. The BullMQ job is completed the moment it is
 * claimed: from then on the execution is tracked in Postgres, so no queue lock is held while a script runs.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker as BullWorker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  ExecutionStatus,
  ExecutionTarget,
  FailureReason,
  TargetPreference,
  WorkerStatus,
  mapPath,
  resolveArguments,
  type ExecutionReport,
  type StageOffer,
  type TaskSpec,
  type WorkerDirective,
} from '@tileflow/shared';
import type { WorkerConfig } from './config/index.js';
import type { Executor, ExecutorEvents, PreparedRun, RunOutcome } from './executors/types.js';
import type { CoordinatorApi } from './reporting/api.js';
import { createReporter, type Reporter } from './reporting/reporter.js';
import type { Logger } from './logger.js';

export type DaemonState = 'starting' | 'running' | 'paused' | 'draining' | 'stopped';

export interface DaemonDeps {
  config: WorkerConfig;
  api: CoordinatorApi;
  redis: Redis;
  logger: Logger;
  makeLocal: (events: ExecutorEvents) => Executor;
  /** Absent when this worker has no cluster. */
  makeCluster?: (events: ExecutorEvents) => Executor;
  version: string;
  /**
   * Most work claimed ahead of the local capacity, as a multiple of it (default 16). The buffer actually kept is
   * sized from measured figures: enough runs to cover one claim round trip at the current task duration, so long
   * tasks keep about one capacity's worth claimed and sub-second tasks keep their slots busy.
   */
  maxPrefetch?: number;
  /** Milliseconds between polls of empty queues. */
  idleMs?: number;
}

interface Claimed {
  spec: TaskSpec;
  target: ExecutionTarget;
  units: number;
  run: PreparedRun;
}

/** A run handed to an executor: claimed by this daemon, or re-attached from an earlier one (no spec then). */
interface Running {
  target: ExecutionTarget;
  units: number;
  expectedExitCode: number;
  /** What the claim already recorded is not sent again for re-attached runs. */
  argv?: string[];
  stdoutPath?: string;
  stderrPath?: string;
}

const runningOf = (c: Claimed): Running => ({
  target: c.target,
  units: c.units,
  expectedExitCode: c.spec.expectedExitCode,
  argv: c.run.argv,
  stdoutPath: c.run.stdoutPath,
  stderrPath: c.run.stderrPath,
});

/** Resolves a spec into what an executor runs: paths mapped to this host, arguments templated, logs named. */
export function prepareRun(spec: TaskSpec, target: ExecutionTarget, pathMap: WorkerConfig['pathMap']): PreparedRun {
  const map = (p: string) => mapPath(p, pathMap);
  const logDir = map(spec.logDir);
  const stdoutPath = path.join(logDir, `${spec.executionId}.out.log`);
  const stderrPath = path.join(logDir, `${spec.executionId}.err.log`);
  const parameters = {
    ...spec.parameters,
    IS_CLUSTER_JOB: target === ExecutionTarget.Cluster ? '1' : '0',
    LOG_FILE: stdoutPath,
  };
  const [src, dst, relativePath, tileName] = spec.baseArgs;
  const argv = [
    map(spec.script),
    map(src),
    map(dst),
    relativePath,
    tileName,
    ...resolveArguments(spec.args, parameters),
  ];
  return {
    executionId: spec.executionId,
    argv,
    env: { ...parameters, TILEFLOW_EXECUTION_ID: spec.executionId },
    cwd: map(spec.workingDir),
    stdoutPath,
    stderrPath,
    timeoutSeconds: spec.timeoutSeconds,
    clusterOptions: spec.clusterOptions,
    workUnits: target === ExecutionTarget.Cluster ? spec.clusterWorkUnits : spec.localWorkUnits,
  };
}

/** The report for a finished run: success is the expected exit code, anything else says why not. */
export function finalReport(outcome: RunOutcome, expectedExitCode: number, target: ExecutionTarget): ExecutionReport {
  const base = {
    executionId: outcome.executionId,
    target,
    exitCode: outcome.exitCode,
    cpuSeconds: outcome.cpuSeconds,
    peakMemoryMb: outcome.peakMemoryMb,
    clusterJobId: outcome.clusterJobId,
    startedAt: outcome.startedAt?.toISOString(),
    at: outcome.finishedAt.toISOString(),
  };
  switch (outcome.ending) {
    case 'exited':
      return outcome.exitCode === expectedExitCode && !outcome.failureReason
        ? { ...base, status: ExecutionStatus.Succeeded, failureReason: null, message: null }
        : {
            ...base,
            status: ExecutionStatus.Failed,
            failureReason: outcome.failureReason ?? FailureReason.ExitCode,
            message: outcome.message ?? `Exit code ${outcome.exitCode}, expected ${expectedExitCode}`,
          };
    case 'canceled':
      return {
        ...base,
        status: ExecutionStatus.Canceled,
        failureReason: FailureReason.Canceled,
        message: outcome.message,
      };
    case 'timeout':
    case 'killed':
    case 'lost':
    case 'failed-to-start':
      return {
        ...base,
        status: ExecutionStatus.Failed,
        failureReason: outcome.failureReason ?? FailureReason.Signal,
        message: outcome.message,
      };
    default: {
      const never: never = outcome.ending;
      throw new Error(`Unknown run ending ${String(never)}`);
    }
  }
}

export interface Daemon {
  start(): Promise<void>;
  /** Stops taking work, waits for running local scripts (cluster jobs keep running), flushes reports. */
  stop(): Promise<void>;
  state(): DaemonState;
  /** Executions started or claimed and not finished. */
  active(): string[];
}

export function createDaemon(deps: DaemonDeps): Daemon {
  const { config, api, logger } = deps;
  const log = logger.child({ worker: config.name });
  const idleMs = deps.idleMs ?? 100;
  const maxPrefetch = deps.maxPrefetch ?? 16;
  /** Moving averages (ms) of a local run and of a claim round trip. */
  let taskMs = 1000;
  let claimMs = 10;
  const ewma = (avg: number, sample: number) => avg * 0.9 + sample * 0.1;
  /** How far ahead of the capacity to claim: one round trip's worth of runs, at least one capacity. */
  const prefetch = () => Math.min(maxPrefetch, Math.max(1, Math.ceil((2 * claimMs) / Math.max(taskMs, 1))));
  let state: DaemonState = 'starting';
  let workerId = '';
  let sessionId = '';
  let directive: WorkerDirective = {
    status: WorkerStatus.Paused,
    localCapacity: 0,
    clusterCapacity: 0,
    stages: [],
    cancel: [],
  };
  let reporter: Reporter | undefined;
  const bulls = new Map<string, BullWorker>();
  /** Claimed and waiting for a local slot, in claim order. */
  const buffer: Claimed[] = [];
  /** Handed to an executor and not finished. */
  const running = new Map<string, Running>();
  let localUnits = 0;
  let clusterUnits = 0;
  let bufferedUnits = 0;
  let wake: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let jobSeq = 0;

  const events: ExecutorEvents = {
    started(executionId, at, clusterJobId) {
      const c = running.get(executionId);
      if (!c) return;
      reporter?.add({
        executionId,
        status: ExecutionStatus.Running,
        target: c.target,
        clusterJobId,
        startedAt: at.toISOString(),
        at: at.toISOString(),
      });
    },
    finished(outcome) {
      const c = running.get(outcome.executionId);
      if (!c) return;
      running.delete(outcome.executionId);
      if (c.target === ExecutionTarget.Local && outcome.startedAt) {
        taskMs = ewma(taskMs, outcome.finishedAt.getTime() - outcome.startedAt.getTime());
      }
      if (c.target === ExecutionTarget.Local) localUnits -= c.units;
      else clusterUnits -= c.units;
      reporter?.add({
        ...finalReport(outcome, c.expectedExitCode, c.target),
        argv: c.argv,
        stdoutPath: c.stdoutPath,
        stderrPath: c.stderrPath,
        workUnits: c.units,
      });
      pump();
      wake?.();
    },
  };
  const local = deps.makeLocal(events);
  const cluster = deps.makeCluster?.(events);

  const executorOf = (target: ExecutionTarget) => (target === ExecutionTarget.Cluster ? cluster! : local);

  /** Where a task of this stage would go now, or nothing if there is no room for it. */
  function chooseTarget(offer: StageOffer): ExecutionTarget | undefined {
    const localRoom = directive.localCapacity * (1 + prefetch()) - localUnits - bufferedUnits;
    const clusterRoom = directive.clusterCapacity - clusterUnits;
    const fitsLocal = offer.localWorkUnits <= localRoom && directive.localCapacity > 0;
    const fitsCluster = cluster !== undefined && offer.clusterWorkUnits <= clusterRoom && directive.clusterCapacity > 0;
    switch (offer.target) {
      case TargetPreference.Local:
        return fitsLocal ? ExecutionTarget.Local : undefined;
      case TargetPreference.Cluster:
        return fitsCluster ? ExecutionTarget.Cluster : undefined;
      case TargetPreference.Any:
        return fitsLocal ? ExecutionTarget.Local : fitsCluster ? ExecutionTarget.Cluster : undefined;
      default: {
        const never: never = offer.target;
        throw new Error(`Unknown target ${String(never)}`);
      }
    }
  }

  function bullFor(queueName: string): BullWorker {
    let w = bulls.get(queueName);
    if (!w) {
      w = new BullWorker(queueName, null, {
        connection: deps.redis,
        prefix: config.redis.prefix,
        autorun: false,
        // The lock is held only between taking the job and claiming it (milliseconds).
        lockDuration: 30_000,
      });
      w.on('error', (err) => log.warn({ err, queueName }, 'queue error'));
      bulls.set(queueName, w);
    }
    return w;
  }

  /** Starts buffered local runs while they fit in the local capacity. */
  function pump(): void {
    while (buffer.length > 0 && localUnits + buffer[0].units <= directive.localCapacity && state !== 'stopped') {
      const c = buffer.shift()!;
      bufferedUnits -= c.units;
      localUnits += c.units;
      running.set(c.spec.executionId, runningOf(c));
      local.start(c.run).catch((err: unknown) => failToStart(c, err));
    }
  }

  function failToStart(c: Claimed, err: unknown): void {
    events.finished({
      executionId: c.spec.executionId,
      ending: 'failed-to-start',
      exitCode: null,
      failureReason: FailureReason.SubmitFailed,
      message: `The ${c.target} executor could not start it: ${(err as Error).message}`,
      cpuSeconds: null,
      peakMemoryMb: null,
      startedAt: null,
      finishedAt: new Date(),
    });
  }

  /** One round over the offered stages: take what fits, claim it, start it. Returns how many were taken. */
  async function fetchRound(): Promise<number> {
    const taken: Array<{ job: Job; token: string; spec: TaskSpec; target: ExecutionTarget; units: number }> = [];
    for (const offer of directive.stages) {
      for (;;) {
        if (state !== 'running') break;
        const target = chooseTarget(offer);
        if (!target) break;
        const token = `${config.name}:${++jobSeq}`;
        const job = await bullFor(offer.queueName).getNextJob(token, { block: false });
        if (!job) break;
        const spec = job.data as TaskSpec;
        const units = target === ExecutionTarget.Cluster ? spec.clusterWorkUnits : spec.localWorkUnits;
        if (target === ExecutionTarget.Local) bufferedUnits += units;
        else clusterUnits += units;
        taken.push({ job, token, spec, target, units });
      }
    }
    if (taken.length === 0) return 0;
    // The job leaves Redis now; Postgres tracks the execution from the claim on.
    await Promise.all(
      taken.map((t) =>
        t.job
          .moveToCompleted(null, t.token, false)
          .catch((err: unknown) => log.warn({ err }, 'job not completed in Redis')),
      ),
    );
    const now = new Date().toISOString();
    const claims: Claimed[] = [];
    const failedEarly: Array<{ c: Claimed; message: string }> = [];
    for (const t of taken) {
      let run: PreparedRun;
      try {
        run = prepareRun(t.spec, t.target, config.pathMap);
      } catch (err) {
        run = {
          executionId: t.spec.executionId,
          argv: [t.spec.script],
          env: {},
          cwd: t.spec.workingDir,
          stdoutPath: '',
          stderrPath: '',
          timeoutSeconds: null,
          clusterOptions: {},
          workUnits: t.units,
        };
        failedEarly.push({ c: { ...t, run }, message: (err as Error).message });
      }
      claims.push({ spec: t.spec, target: t.target, units: t.units, run });
    }
    const claimStart = Date.now();
    const rejected = await reporter!.claim(
      claims.map((c) => ({
        executionId: c.spec.executionId,
        status: ExecutionStatus.Submitted,
        target: c.target,
        workUnits: c.units,
        argv: c.run.argv,
        stdoutPath: c.run.stdoutPath || undefined,
        stderrPath: c.run.stderrPath || undefined,
        at: now,
      })),
    );
    claimMs = ewma(claimMs, Date.now() - claimStart);
    const early = new Map(failedEarly.map((f) => [f.c.spec.executionId, f.message]));
    for (const c of claims) {
      const id = c.spec.executionId;
      if (rejected.has(id)) {
        if (c.target === ExecutionTarget.Local) bufferedUnits -= c.units;
        else clusterUnits -= c.units;
        continue;
      }
      if (early.has(id)) {
        if (c.target === ExecutionTarget.Local) bufferedUnits -= c.units;
        else clusterUnits -= c.units;
        reporter!.add({
          executionId: id,
          status: ExecutionStatus.Failed,
          target: c.target,
          failureReason: FailureReason.SubmitFailed,
          message: early.get(id)!,
          at: new Date().toISOString(),
        });
        continue;
      }
      if (c.target === ExecutionTarget.Local) {
        buffer.push(c);
      } else {
        running.set(id, runningOf(c));
        cluster!.start(c.run).catch((err: unknown) => failToStart(c, err));
      }
    }
    pump();
    return taken.length;
  }

  async function fetchLoop(): Promise<void> {
    while (state !== 'stopped') {
      let n = 0;
      if (state === 'running' && reporter) {
        try {
          n = await fetchRound();
        } catch (err) {
          log.warn({ err }, 'fetch round failed; retrying');
        }
      }
      if (n === 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, idleMs);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
    }
  }

  function applyDirective(d: WorkerDirective): void {
    directive = d;
    for (const id of d.cancel) {
      const i = buffer.findIndex((c) => c.spec.executionId === id);
      if (i >= 0) {
        const [c] = buffer.splice(i, 1);
        bufferedUnits -= c.units;
        reporter?.add({
          executionId: id,
          status: ExecutionStatus.Canceled,
          target: c.target,
          failureReason: FailureReason.Canceled,
          message: 'Canceled before it started',
          at: new Date().toISOString(),
        });
      } else if (running.has(id)) {
        void executorOf(running.get(id)!.target)
          .cancel(id)
          .catch((err: unknown) => log.warn({ err, executionId: id }, 'cancel failed'));
      }
    }
    if (state === 'draining' || state === 'stopped') return;
    switch (d.status) {
      case WorkerStatus.Running:
        state = 'running';
        break;
      case WorkerStatus.Paused:
      case WorkerStatus.Starting:
      case WorkerStatus.Unavailable:
        state = 'paused';
        break;
      case WorkerStatus.Draining:
      case WorkerStatus.Stopped:
        // Drained from the API: take nothing new, finish what runs; the coordinator may resume us later.
        state = 'paused';
        break;
      default: {
        const never: never = d.status;
        throw new Error(`Unknown worker status ${String(never)}`);
      }
    }
    pump();
    wake?.();
  }

  async function register(): Promise<void> {
    const reg = await api.register({
      name: config.name,
      host: os.hostname(),
      version: deps.version,
      cpus: os.cpus().length,
      memoryMb: Math.round(os.totalmem() / 2 ** 20),
      localCapacity: config.localCapacity,
      clusterCapacity: config.clusterCapacity,
      clusterExecutions: cluster ? cluster.running() : [],
    });
    workerId = reg.workerId;
    sessionId = reg.sessionId;
    if (reporter) reporter.setSession(sessionId);
    else
      reporter = createReporter(api, sessionId, {
        onError: (err) => log.warn({ err: err.message }, 'report not sent; retrying'),
      });
    if (cluster && reg.reattach.length > 0) {
      for (const r of reg.reattach) {
        if (running.has(r.executionId)) continue;
        running.set(r.executionId, {
          target: ExecutionTarget.Cluster,
          units: r.workUnits,
          expectedExitCode: r.expectedExitCode,
        });
        clusterUnits += r.workUnits;
      }
      await cluster.reattach(reg.reattach);
      for (const r of reg.reattach)
        log.info({ executionId: r.executionId, jobId: r.clusterJobId }, 're-attached to cluster job');
    }
    applyDirective(reg.directive);
    log.info({ workerId, status: reg.directive.status }, 'registered');
  }

  async function heartbeat(): Promise<void> {
    try {
      if (!reporter) await register();
      await reporter!.flush();
      const d = await api.heartbeat({
        workerId,
        sessionId,
        localLoad: localUnits,
        clusterLoad: clusterUnits,
        running: [...running.keys(), ...buffer.map((c) => c.spec.executionId)],
        cpus: os.cpus().length,
        memoryMb: Math.round(os.totalmem() / 2 ** 20),
        loadAverage: os.loadavg()[0],
      });
      applyDirective(d);
    } catch (err) {
      if ((err as { code?: string }).code === 'STALE_SESSION') {
        // Our session was replaced or forgotten: register again rather than run on as a ghost.
        log.warn('session no longer current; registering again');
        await register().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'registration failed'));
        return;
      }
      log.warn({ err: (err as Error).message }, 'heartbeat failed; retrying');
    }
  }

  return {
    async start() {
      await register();
      heartbeatTimer = setInterval(() => void heartbeat(), config.heartbeatSeconds * 1000);
      loop = fetchLoop();
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'draining';
      log.info({ running: running.size, buffered: buffer.length }, 'draining');
      // Claimed but not started: hand them back as failed-to-start so the coordinator retries them elsewhere.
      for (const c of buffer.splice(0)) {
        reporter?.add({
          executionId: c.spec.executionId,
          status: ExecutionStatus.Failed,
          target: c.target,
          failureReason: FailureReason.WorkerLost,
          message: 'The worker stopped before it started this',
          at: new Date().toISOString(),
        });
      }
      bufferedUnits = 0;
      wake?.();
      while ([...running.values()].some((c) => c.target === ExecutionTarget.Local)) {
        await new Promise((r) => setTimeout(r, 50));
      }
      state = 'stopped';
      wake?.();
      await loop;
      clearInterval(heartbeatTimer);
      await reporter?.close();
      await Promise.all([...bulls.values()].map((b) => b.close()));
      await local.close();
      await cluster?.close();
    },
    state: () => state,
    active: () => [...running.keys(), ...buffer.map((c) => c.spec.executionId)],
  };
}
