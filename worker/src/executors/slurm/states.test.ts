/**
 * Parsing and state mapping on output recorded from the project's SLURM 22.05 (squeue --Format=SQUEUE_FORMAT, the
 * jobcomp/filetxt log). OUT_OF_MEMORY, NODE_FAIL, PREEMPTED, BOOT_FAIL, REVOKED and SPECIAL_EXIT cannot be provoked
 * on this single node (memory is not enforced, there is no preemption, no federation, no power saving): their lines
 * are recorded lines with the state field changed, which is all that differs in SLURM's output.
 */
import { describe, expect, it } from 'vitest';
import {
  outcomeOf,
  parseJobCompLine,
  parseSqueueLine,
  parseSqueueOutput,
  phaseOf,
  SLURM_STATES,
  SQUEUE_FIELDS,
  type JobRecord,
} from './states.js';

const recordedSqueue = {
  pending: '181|181|N/A|PENDING|JobHeldUser|0|N/A|N/A||tileflow-rec-pending|',
  running: '182|182|N/A|RUNNING|None|0|2026-11-23T04:30:14|NONE|localhost|tileflow-rec-running|',
  arrayPending: '183|183|1|PENDING|JobArrayTaskLimit|0|N/A|N/A||tileflow|odd name|',
  arrayRunning: '184|183|0|RUNNING|None|0|2026-11-23T04:30:14|NONE|localhost|tileflow|odd name|',
  completed:
    '20|20|N/A|COMPLETED|None|0|2026-11-23T04:25:10|2026-11-23T04:25:10|localhost|tileflow-ct-16248-mwsrihi8-1|',
  exit3:
    '21|21|N/A|FAILED|NonZeroExitCode|768|2026-11-23T04:25:11|2026-11-23T04:25:11|localhost|tileflow-ct-16248-mwsriiev-2|',
  sigkill:
    '55|55|N/A|FAILED|JobLaunchFailure|9|2026-11-23T04:27:00|2026-11-23T04:27:00|localhost|tileflow-it-21995-mwsrkuhn-3|',
  arrayTaskExit1:
    '95|93|1|FAILED|NonZeroExitCode|256|2026-11-23T04:27:09|2026-11-23T04:27:09|localhost|tileflow-array-it-21995-mwsrl1dd-48|',
  timeout:
    '53|53|N/A|TIMEOUT|TimeLimit|15|2026-11-23T04:26:40|2026-11-23T04:26:58|localhost|tileflow-it-21995-mwsrketx-1|',
  cancelledRunning:
    '28|28|N/A|CANCELLED|None|15|2026-11-23T04:25:17|2026-11-23T04:25:19|localhost|tileflow-ct-16248-mwsrinbd-8|',
  cancelledPending:
    '126|126|N/A|CANCELLED|JobHeldUser|0|2026-11-23T04:29:33|2026-11-23T04:29:33||tileflow-it-8528-mwsro4km-5|',
  deadline: '54|54|N/A|DEADLINE|DeadLine|1|2026-11-23T04:26:59|2026-11-23T04:26:59||tileflow-it-21995-mwsrktor-2|',
};

const recordedJobComp = {
  exit3:
    'JobId=1 UserId=root(0) GroupId=root(0) Name=wrap JobState=FAILED Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-23T04:14:00 EndTime=2026-11-23T04:14:00 NodeList=localhost NodeCnt=1 ProcCnt=1 WorkDir=/tmp/sl ReservationName= Tres=cpu=1,mem=4000M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-23T04:14:00 EligibleTime=2026-11-23T04:14:00 DerivedExitCode=0:0 ExitCode=3:0 ',
  timeout:
    'JobId=2 UserId=root(0) GroupId=root(0) Name=wrap JobState=TIMEOUT Partition=debug TimeLimit=1 StartTime=2026-11-23T04:15:58 EndTime=2026-11-23T04:17:27 NodeList=localhost NodeCnt=1 ProcCnt=1 WorkDir=/tmp/sl ReservationName= Tres=cpu=1,mem=4000M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-23T04:15:57 EligibleTime=2026-11-23T04:15:57 DerivedExitCode=0:0 ExitCode=0:0 ',
  deadline:
    'JobId=5 UserId=root(0) GroupId=root(0) Name=wrap JobState=DEADLINE Partition=debug TimeLimit=1 StartTime=2026-11-23T04:18:02 EndTime=2026-11-23T04:18:02 NodeList=(null) NodeCnt=0 ProcCnt=0 WorkDir=/tmp/sl ReservationName= Tres=cpu=1,mem=4000M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-23T04:18:01 EligibleTime=2026-11-23T04:18:01 DerivedExitCode=0:0 ExitCode=0:1 ',
  arrayTask:
    'JobId=18 UserId=root(0) GroupId=root(0) Name=tileflow-array-b1 JobState=COMPLETED Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-23T04:23:29 EndTime=2026-11-23T04:23:29 NodeList=localhost NodeCnt=1 ProcCnt=1 WorkDir=/tmp/tfs/run ReservationName= Tres=cpu=1,mem=4000M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-23T04:23:29 EligibleTime=2026-11-23T04:23:29 ArrayJobId=18 ArrayTaskId=1 DerivedExitCode=0:0 ExitCode=0:0 ',
  cancelled:
    'JobId=12 UserId=root(0) GroupId=root(0) Name=wrap JobState=CANCELLED Partition=debug TimeLimit=UNLIMITED StartTime=2026-11-23T04:18:12 EndTime=2026-11-23T04:18:14 NodeList=localhost NodeCnt=1 ProcCnt=1 WorkDir=/tmp/sl ReservationName= Tres=cpu=1,mem=4000M,node=1,billing=1 Account= QOS= WcKey= Cluster=unknown SubmitTime=2026-11-23T04:18:12 EligibleTime=2026-11-23T04:18:12 DerivedExitCode=0:0 ExitCode=0:0 ',
};

const sq = (line: string): JobRecord => {
  const r = parseSqueueLine(line);
  if (!r) throw new Error(`not parsed: ${line}`);
  return r;
};
const withState = (line: string, state: string) => line.replace(/\|(FAILED|COMPLETED|RUNNING)\|/, `|${state}|`);

describe('parseSqueueLine', () => {
  it('reads ids, state, wait status, times, nodes and name', () => {
    expect(sq(recordedSqueue.exit3)).toMatchObject({
      key: '21',
      state: 'FAILED',
      reason: 'NonZeroExitCode',
      exitCode: 3,
      signal: null,
      ranOnNode: true,
      name: 'tileflow-ct-16248-mwsriiev-2',
    });
    expect(sq(recordedSqueue.exit3).startTime).toEqual(new Date('2026-11-23T04:25:11'));
    expect(sq(recordedSqueue.sigkill)).toMatchObject({ exitCode: null, signal: 9 });
    expect(sq(recordedSqueue.pending)).toMatchObject({
      key: '181',
      state: 'PENDING',
      startTime: null,
      endTime: null,
      ranOnNode: false,
    });
    expect(sq(recordedSqueue.running)).toMatchObject({ state: 'RUNNING', endTime: null, ranOnNode: true });
  });

  it('names array tasks ArrayJobId_TaskId, pending or running, whatever their own job id', () => {
    expect(sq(recordedSqueue.arrayPending)).toMatchObject({ key: '183_1', rawJobId: '183', name: 'tileflow|odd name' });
    expect(sq(recordedSqueue.arrayRunning)).toMatchObject({ key: '183_0', rawJobId: '184' });
    expect(sq(recordedSqueue.arrayTaskExit1)).toMatchObject({ key: '93_1', exitCode: 1 });
  });

  it('skips what is not a job line', () => {
    expect(parseSqueueLine('')).toBeNull();
    expect(parseSqueueLine('slurm_load_jobs error: Invalid job id specified')).toBeNull();
    expect(parseSqueueLine('JOBID|STATE|')).toBeNull();
    expect([...parseSqueueOutput(Object.values(recordedSqueue).join('\n') + '\n').keys()]).toHaveLength(
      Object.keys(recordedSqueue).length,
    );
    expect(SQUEUE_FIELDS.at(-1)).toBe('Name');
  });
});

describe('parseJobCompLine', () => {
  it('reads state, code:signal, times, nodes and array ids', () => {
    expect(parseJobCompLine(recordedJobComp.exit3)).toMatchObject({
      key: '1',
      state: 'FAILED',
      exitCode: 3,
      signal: null,
      ranOnNode: true,
      name: 'wrap',
      source: 'jobcomp',
    });
    expect(parseJobCompLine(recordedJobComp.deadline)).toMatchObject({ key: '5', state: 'DEADLINE', ranOnNode: false });
    expect(parseJobCompLine(recordedJobComp.arrayTask)).toMatchObject({
      key: '18_1',
      rawJobId: '18',
      state: 'COMPLETED',
      exitCode: 0,
    });
    expect(parseJobCompLine(recordedJobComp.timeout)?.endTime).toEqual(new Date('2026-11-23T04:17:27'));
  });

  it('does not take DerivedExitCode for ExitCode, nor a WorkDir for the state', () => {
    const line = recordedJobComp.exit3.replace('WorkDir=/tmp/sl', 'WorkDir=/tmp/x JobState=COMPLETED ExitCode=9:0');
    expect(parseJobCompLine(line)).toMatchObject({ state: 'FAILED', exitCode: 3 });
    expect(parseJobCompLine('')).toBeNull();
    expect(parseJobCompLine('garbage JobId=3')).toBeNull();
  });
});

describe('phaseOf', () => {
  it('puts every SLURM state in pending, running or final', () => {
    const pending = [
      'PENDING',
      'CONFIGURING',
      'REQUEUED',
      'REQUEUE_FED',
      'REQUEUE_HOLD',
      'RESV_DEL_HOLD',
      'POWER_UP_NODE',
    ];
    const running = [
      'RUNNING',
      'COMPLETING',
      'SUSPENDED',
      'STOPPED',
      'RESIZING',
      'SIGNALING',
      'STAGE_OUT',
      'UPDATE_DB',
    ];
    for (const s of SLURM_STATES) {
      expect(phaseOf(s), s).toBe(pending.includes(s) ? 'pending' : running.includes(s) ? 'running' : 'final');
    }
    expect(phaseOf('SOMETHING_NEW')).toBe('running');
  });
});

describe('outcomeOf', () => {
  it('COMPLETED and FAILED with a code: exited with that code', () => {
    expect(outcomeOf(sq(recordedSqueue.completed), undefined, null)).toMatchObject({
      ending: 'exited',
      exitCode: 0,
      failureReason: null,
      clusterJobId: '20',
    });
    expect(outcomeOf(sq(recordedSqueue.exit3), undefined, null)).toMatchObject({
      ending: 'exited',
      exitCode: 3,
      failureReason: null,
    });
    expect(outcomeOf(parseJobCompLine(recordedJobComp.exit3)!, undefined, null)).toMatchObject({
      ending: 'exited',
      exitCode: 3,
    });
  });

  it('FAILED by a signal: killed; FAILED with neither: could not launch', () => {
    expect(outcomeOf(sq(recordedSqueue.sigkill), undefined, null)).toMatchObject({
      ending: 'killed',
      failureReason: 'signal',
      exitCode: null,
    });
    const noStatus = sq(recordedSqueue.exit3.replace('|768|', '|0|').replace('NonZeroExitCode', 'JobLaunchFailure'));
    expect(outcomeOf(noStatus, undefined, null)).toMatchObject({
      ending: 'failed-to-start',
      failureReason: 'submit-failed',
    });
    expect(outcomeOf(noStatus, undefined, null).message).toContain('JobLaunchFailure');
  });

  it('TIMEOUT: timeout', () => {
    expect(outcomeOf(sq(recordedSqueue.timeout), undefined, null)).toMatchObject({
      ending: 'timeout',
      failureReason: 'timeout',
    });
    expect(outcomeOf(parseJobCompLine(recordedJobComp.timeout)!, undefined, null)).toMatchObject({ ending: 'timeout' });
  });

  it('CANCELLED: canceled or timeout when Tileflow cancelled it, killed when someone else did', () => {
    expect(outcomeOf(sq(recordedSqueue.cancelledRunning), 'canceled', null)).toMatchObject({
      ending: 'canceled',
      failureReason: 'canceled',
    });
    expect(outcomeOf(sq(recordedSqueue.cancelledPending), 'canceled', null)).toMatchObject({ ending: 'canceled' });
    const t = outcomeOf(sq(recordedSqueue.cancelledRunning), 'timeout', 2);
    expect(t).toMatchObject({ ending: 'timeout', failureReason: 'timeout' });
    expect(t.message).toContain('2 s');
    expect(outcomeOf(sq(recordedSqueue.cancelledRunning), undefined, null)).toMatchObject({
      ending: 'killed',
      failureReason: 'signal',
    });
    expect(outcomeOf(parseJobCompLine(recordedJobComp.cancelled)!, 'canceled', null)).toMatchObject({
      ending: 'canceled',
    });
  });

  it.each([
    ['NODE_FAIL', 'killed', 'node-fail'],
    ['OUT_OF_MEMORY', 'killed', 'out-of-memory'],
    ['PREEMPTED', 'killed', 'preempted'],
    ['BOOT_FAIL', 'failed-to-start', 'node-fail'],
    ['DEADLINE', 'killed', 'timeout'],
    ['REVOKED', 'killed', 'canceled'],
    ['SPECIAL_EXIT', 'exited', 'exit-code'],
  ])('%s (on a job that ran): ending %s, reason %s, the state named in the message', (state, ending, reason) => {
    const out = outcomeOf(sq(withState(recordedSqueue.exit3, state)), undefined, null);
    expect(out).toMatchObject({ ending, failureReason: reason });
    expect(out.message).toContain(state);
  });

  it('DEADLINE on a job that never ran: failed to start', () => {
    const out = outcomeOf(sq(recordedSqueue.deadline), undefined, null);
    expect(out).toMatchObject({ ending: 'failed-to-start', failureReason: 'timeout' });
    expect(outcomeOf(parseJobCompLine(recordedJobComp.deadline)!, undefined, null)).toMatchObject({
      ending: 'failed-to-start',
    });
  });

  it('an unknown final state is reported with its name rather than dropped', () => {
    const out = outcomeOf(sq(withState(recordedSqueue.exit3, 'NEW_STATE')), undefined, null);
    expect(out.message).toContain('NEW_STATE');
    expect(out.ending).toBe('killed');
  });
});
