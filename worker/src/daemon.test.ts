import { describe, expect, it } from 'vitest';
import { ExecutionStatus, ExecutionTarget, FailureReason, type TaskSpec } from '@tileflow/shared';
import { finalReport, prepareRun } from './daemon.js';
import type { RunOutcome } from './executors/types.js';

const spec: TaskSpec = {
  executionId: 'e1',
  projectId: 'p',
  stageId: 's',
  tileId: '1',
  attempt: 1,
  script: '/coord/tasks/run.sh',
  baseArgs: ['/coord/acq', '/coord/out', "z0/it's $(rm -rf) x", 'tile "1"'],
  args: ['--name=${PROJECT_NAME}', '${X}', 'literal $HOME', '$${ESCAPED}'],
  parameters: { PROJECT_NAME: 'my project', X: '3' },
  expectedExitCode: 0,
  localWorkUnits: 1,
  clusterWorkUnits: 4,
  clusterOptions: {},
  timeoutSeconds: 60,
  target: 'any',
  logDir: '/coord/logs/stage-s',
  workingDir: '/coord/out',
};

describe('prepareRun', () => {
  it('resolves parameters into argv elements without a shell, maps paths, names the log files', () => {
    const run = prepareRun(spec, ExecutionTarget.Local, [['/coord', '/mnt/here']]);
    expect(run.argv).toEqual([
      '/mnt/here/tasks/run.sh',
      '/mnt/here/acq',
      '/mnt/here/out',
      "z0/it's $(rm -rf) x",
      'tile "1"',
      '--name=my project',
      '3',
      'literal $HOME',
      '${ESCAPED}',
    ]);
    expect(run.stdoutPath).toBe('/mnt/here/logs/stage-s/e1.out.log');
    expect(run.stderrPath).toBe('/mnt/here/logs/stage-s/e1.err.log');
    expect(run.cwd).toBe('/mnt/here/out');
    expect(run.env.IS_CLUSTER_JOB).toBe('0');
    expect(run.env.LOG_FILE).toBe(run.stdoutPath);
    expect(run.workUnits).toBe(1);
    expect(prepareRun(spec, ExecutionTarget.Cluster, []).workUnits).toBe(4);
    expect(prepareRun(spec, ExecutionTarget.Cluster, []).env.IS_CLUSTER_JOB).toBe('1');
  });

  it('refuses an argument that names an unknown parameter', () => {
    expect(() => prepareRun({ ...spec, args: ['${NOPE}'] }, ExecutionTarget.Local, [])).toThrow(/NOPE/);
  });
});

describe('finalReport', () => {
  const outcome = (o: Partial<RunOutcome>): RunOutcome => ({
    executionId: 'e1',
    ending: 'exited',
    exitCode: 0,
    failureReason: null,
    message: null,
    cpuSeconds: 0.1,
    peakMemoryMb: 3,
    startedAt: new Date(0),
    finishedAt: new Date(1000),
    ...o,
  });

  it('succeeds only on the expected exit code', () => {
    expect(finalReport(outcome({ exitCode: 0 }), 0, ExecutionTarget.Local).status).toBe(ExecutionStatus.Succeeded);
    const r = finalReport(outcome({ exitCode: 0 }), 3, ExecutionTarget.Local);
    expect(r.status).toBe(ExecutionStatus.Failed);
    expect(r.failureReason).toBe(FailureReason.ExitCode);
    expect(r.message).toBe('Exit code 0, expected 3');
    expect(finalReport(outcome({ exitCode: 3 }), 3, ExecutionTarget.Local).status).toBe(ExecutionStatus.Succeeded);
  });

  it('maps every other ending to failed or canceled with its reason', () => {
    expect(finalReport(outcome({ ending: 'canceled' }), 0, ExecutionTarget.Local).status).toBe(
      ExecutionStatus.Canceled,
    );
    const t = finalReport(
      outcome({ ending: 'timeout', failureReason: FailureReason.Timeout }),
      0,
      ExecutionTarget.Local,
    );
    expect([t.status, t.failureReason]).toEqual([ExecutionStatus.Failed, FailureReason.Timeout]);
    const m = finalReport(
      outcome({ ending: 'failed-to-start', failureReason: FailureReason.ScriptMissing, message: 'gone' }),
      0,
      ExecutionTarget.Local,
    );
    expect([m.status, m.failureReason, m.message]).toEqual([
      ExecutionStatus.Failed,
      FailureReason.ScriptMissing,
      'gone',
    ]);
    const oom = finalReport(
      outcome({ ending: 'exited', exitCode: 0, failureReason: FailureReason.OutOfMemory }),
      0,
      ExecutionTarget.Cluster,
    );
    expect(oom.status).toBe(ExecutionStatus.Failed);
  });
});
