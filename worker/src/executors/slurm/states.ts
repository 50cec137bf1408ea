/**
 * What SLURM says about a job, parsed from squeue and from the completion log (jobcomp/filetxt), and what it means
 * for a run. Pure functions: the executor feeds them the commands' output, the tests feed them recorded output.
 */
import { FailureReason } from '@tileflow/shared';
import type { RunOutcome } from '../types.js';

/** Every job state SLURM 22.05 prints (base states and the flags squeue shows in their place). */
export const SLURM_STATES = [
  // still waiting: the script has not started
  'PENDING',
  'CONFIGURING',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESV_DEL_HOLD',
  'POWER_UP_NODE',
  // the script has started (COMPLETING: it ended or is being killed, processes are still being cleaned up)
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'STOPPED',
  'RESIZING',
  'SIGNALING',
  'STAGE_OUT',
  'UPDATE_DB',
  // final
  'COMPLETED',
  'FAILED',
  'TIMEOUT',
  'CANCELLED',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
] as const;
export type SlurmState = (typeof SLURM_STATES)[number];

export type StatePhase = 'pending' | 'running' | 'final';

export function isSlurmState(s: string): s is SlurmState {
  return (SLURM_STATES as readonly string[]).includes(s);
}

/** Whether a state means the job waits, runs, or is over. An unknown state (a newer SLURM) counts as running. */
export function phaseOf(state: string): StatePhase {
  if (!isSlurmState(state)) return 'running';
  switch (state) {
    case 'PENDING':
    case 'CONFIGURING':
    case 'REQUEUED':
    case 'REQUEUE_FED':
    case 'REQUEUE_HOLD':
    case 'RESV_DEL_HOLD':
    case 'POWER_UP_NODE':
      return 'pending';
    case 'RUNNING':
    case 'COMPLETING':
    case 'SUSPENDED':
    case 'STOPPED':
    case 'RESIZING':
    case 'SIGNALING':
    case 'STAGE_OUT':
    case 'UPDATE_DB':
      return 'running';
    case 'COMPLETED':
    case 'FAILED':
    case 'TIMEOUT':
    case 'CANCELLED':
    case 'NODE_FAIL':
    case 'OUT_OF_MEMORY':
    case 'PREEMPTED':
    case 'BOOT_FAIL':
    case 'DEADLINE':
    case 'REVOKED':
    case 'SPECIAL_EXIT':
      return 'final';
  }
}

/** One job as SLURM reports it, whichever the source. */
export interface JobRecord {
  /** `123`, or `123_4` for task 4 of array 123: the id Tileflow stores as the execution's cluster job id. */
  key: string;
  /** SLURM's own id of the job (an array task has one too). */
  rawJobId: string;
  /** The job's name (Tileflow's jobs are `tileflow-<executionId>`), to tell them from a job that reuses the id. */
  name: string | null;
  state: string;
  /** squeue's reason (None, Priority, NonZeroExitCode, TimeLimit…); null from the completion log. */
  reason: string | null;
  /** The script's exit status: its code, or the signal that ended it. Null when SLURM does not say. */
  exitCode: number | null;
  signal: number | null;
  startTime: Date | null;
  endTime: Date | null;
  /** Whether the job was given a node (a job cancelled or expired while pending never was). */
  ranOnNode: boolean;
  /** Seconds of CPU and peak memory, when the source gives them (squeue and jobcomp/filetxt do not). */
  cpuSeconds: number | null;
  peakMemoryMb: number | null;
  source: 'squeue' | 'jobcomp';
}

/** squeue `--Format` fields, in the order parseSqueueLine reads them. Every field ends with `|`; Name comes last, as
 * the one field that may hold a `|` itself. */
export const SQUEUE_FIELDS = [
  'JobID',
  'ArrayJobID',
  'ArrayTaskID',
  'State',
  'Reason',
  'exit_code',
  'StartTime',
  'EndTime',
  'NodeList',
  'Name',
];
export const SQUEUE_FORMAT = SQUEUE_FIELDS.map((f) => `${f}:|`).join(',');

/** SLURM prints times in the local time zone, without an offset, which is how `Date` reads such a string. */
export function parseSlurmTime(value: string | undefined): Date | null {
  if (!value || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function jobKey(rawJobId: string, arrayJobId: string | undefined, arrayTaskId: string | undefined): string {
  return arrayJobId && arrayTaskId && /^\d+$/.test(arrayTaskId) && /^\d+$/.test(arrayJobId) && arrayJobId !== '0'
    ? `${arrayJobId}_${arrayTaskId}`
    : rawJobId;
}

/** One line of `squeue --noheader --array --Format=SQUEUE_FORMAT`; null for a line that is not one. */
export function parseSqueueLine(line: string): JobRecord | null {
  const f = line.split('|');
  if (f.length < SQUEUE_FIELDS.length + 1) return null;
  const [rawJobId, arrayJobId, arrayTaskId, state, reason, exitCode, start, end, nodes] = f.map((s) => s.trim());
  const name = f.slice(SQUEUE_FIELDS.length - 1, -1).join('|');
  if (!/^\d+$/.test(rawJobId) || !state) return null;
  // exit_code is the raw wait status: 768 is exit 3, 9 is SIGKILL.
  const status = /^\d+$/.test(exitCode) ? Number(exitCode) : null;
  const signal = status === null ? null : status & 0x7f;
  return {
    key: jobKey(rawJobId, arrayJobId, arrayTaskId),
    rawJobId,
    name,
    state: state.split(/\s/)[0],
    reason: reason || null,
    exitCode: status === null ? null : signal ? null : (status >> 8) & 0xff,
    signal: signal || null,
    startTime: parseSlurmTime(start),
    endTime: parseSlurmTime(end),
    ranOnNode: nodes !== '' && nodes !== '(null)',
    cpuSeconds: null,
    peakMemoryMb: null,
    source: 'squeue',
  };
}

export function parseSqueueOutput(stdout: string): Map<string, JobRecord> {
  const out = new Map<string, JobRecord>();
  for (const line of stdout.split('\n')) {
    const r = parseSqueueLine(line);
    if (r) out.set(r.key, r);
  }
  return out;
}

/** The value of `Key=` in a jobcomp line: the first occurrence, or the last for fields written after WorkDir. */
function field(line: string, key: string, last = false): string | undefined {
  const re = new RegExp(`(?:^| )${key}=(\\S*)`, 'g');
  let value: string | undefined;
  for (const m of line.matchAll(re)) {
    value = m[1];
    if (!last) break;
  }
  return value;
}

/**
 * One line of the jobcomp/filetxt completion log (`JobId=12 UserId=… JobState=FAILED … ExitCode=3:0`); null for a
 * line that is not one. Its ExitCode is `code:signal`; a cancelled job shows 0:0 there.
 */
export function parseJobCompLine(line: string): JobRecord | null {
  const rawJobId = /^JobId=(\d+) /.exec(line)?.[1];
  const state = field(line, 'JobState');
  if (!rawJobId || !state) return null;
  const exit = /^(\d+):(\d+)$/.exec(field(line, 'ExitCode', true) ?? '');
  const nodes = field(line, 'NodeList') ?? '';
  return {
    key: jobKey(rawJobId, field(line, 'ArrayJobId', true), field(line, 'ArrayTaskId', true)),
    rawJobId,
    name: field(line, 'Name') ?? null,
    state,
    reason: null,
    exitCode: exit && exit[2] === '0' ? Number(exit[1]) : null,
    signal: exit && exit[2] !== '0' ? Number(exit[2]) : null,
    startTime: parseSlurmTime(field(line, 'StartTime')),
    endTime: parseSlurmTime(field(line, 'EndTime')),
    ranOnNode: nodes !== '' && nodes !== '(null)',
    cpuSeconds: null,
    peakMemoryMb: null,
    source: 'jobcomp',
  };
}

/** Why the executor itself stopped a job, if it did. */
export type StopIntent = 'canceled' | 'timeout' | undefined;

export type FinalOutcome = Omit<RunOutcome, 'executionId' | 'finishedAt' | 'startedAt'>;

/**
 * What a final SLURM state means for the run. `intent` is why Tileflow stopped the job, if it did: a CANCELLED job
 * that Tileflow cancelled is 'canceled' (or 'timeout' when it was Tileflow's deadline), one cancelled by someone
 * else was 'killed'.
 */
export function outcomeOf(r: JobRecord, intent: StopIntent, timeoutSeconds: number | null): FinalOutcome {
  const base = {
    clusterJobId: r.key,
    exitCode: r.exitCode,
    cpuSeconds: r.cpuSeconds,
    peakMemoryMb: r.peakMemoryMb,
  };
  const job = `SLURM job ${r.key}`;
  const why = r.reason && r.reason !== 'None' ? ` (reason: ${r.reason})` : '';
  const stopped = r.ranOnNode ? 'killed' : 'failed-to-start';
  const state = isSlurmState(r.state) ? r.state : null;
  switch (state) {
    case 'COMPLETED':
      return { ...base, ending: 'exited', exitCode: r.exitCode ?? 0, failureReason: null, message: null };
    case 'FAILED':
      if (r.signal) {
        return {
          ...base,
          ending: 'killed',
          failureReason: FailureReason.Signal,
          message: `${job} FAILED: its script was killed by signal ${r.signal}${why}`,
        };
      }
      if (r.exitCode) return { ...base, ending: 'exited', failureReason: null, message: null };
      return {
        ...base,
        ending: 'failed-to-start',
        failureReason: FailureReason.SubmitFailed,
        message: `${job} FAILED without an exit status: SLURM could not launch it${why}`,
      };
    case 'TIMEOUT':
      return {
        ...base,
        ending: 'timeout',
        failureReason: FailureReason.Timeout,
        message: `${job} reached its SLURM time limit (TIMEOUT)`,
      };
    case 'CANCELLED':
      if (intent === 'timeout') {
        return {
          ...base,
          ending: 'timeout',
          failureReason: FailureReason.Timeout,
          message: `Timed out after ${timeoutSeconds} s; ${job} was cancelled (scancel)`,
        };
      }
      if (intent === 'canceled')
        return {
          ...base,
          ending: 'canceled',
          failureReason: FailureReason.Canceled,
          message: `Canceled; ${job} was cancelled (scancel)`,
        };
      return {
        ...base,
        ending: 'killed',
        failureReason: FailureReason.Signal,
        message: `${job} was CANCELLED outside Tileflow (scancel by a user or an administrator)${why}`,
      };
    case 'NODE_FAIL':
      return {
        ...base,
        ending: 'killed',
        failureReason: FailureReason.NodeFail,
        message: `${job} ended in NODE_FAIL: its node failed${why}`,
      };
    case 'OUT_OF_MEMORY':
      return {
        ...base,
        ending: 'killed',
        failureReason: FailureReason.OutOfMemory,
        message: `${job} ran OUT_OF_MEMORY: it used more than its --mem`,
      };
    case 'PREEMPTED':
      return {
        ...base,
        ending: 'killed',
        failureReason: FailureReason.Preempted,
        message: `${job} was PREEMPTED by a job of higher priority`,
      };
    case 'BOOT_FAIL':
      return {
        ...base,
        ending: 'failed-to-start',
        failureReason: FailureReason.NodeFail,
        message: `${job} ended in BOOT_FAIL: its node failed to boot${why}`,
      };
    case 'DEADLINE':
      return {
        ...base,
        ending: stopped,
        failureReason: FailureReason.Timeout,
        message: `${job} ended in DEADLINE: it could not finish before its --deadline${why}`,
      };
    case 'REVOKED':
      return {
        ...base,
        ending: stopped,
        failureReason: FailureReason.Canceled,
        message: `${job} was REVOKED (a federated sibling job ran elsewhere)${why}`,
      };
    case 'SPECIAL_EXIT':
      return {
        ...base,
        ending: 'exited',
        failureReason: FailureReason.ExitCode,
        message: `${job} ended in SPECIAL_EXIT (held for requeue after exit code ${r.exitCode})`,
      };
    default:
      return {
        ...base,
        ending: stopped,
        failureReason: FailureReason.SubmitFailed,
        message: `${job} ended in state ${r.state}, which this executor does not know${why}`,
      };
  }
}
