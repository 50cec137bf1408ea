import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { ExecutionStatus, FINAL_EXECUTION_STATUSES, UnreachableCaseError, type ExecutionEvent } from '@tileflow/shared';
import { executionStatus as executionStatusOf, failureReason as failureReasonOf } from '../../api/enums';
import { ResubmitTilesDocument, TileExecutionsDocument } from '../../api/generated';
import { formatDuration, formatNumber, formatTime } from '../../components/format';
import { ActionButton } from '../../components/forms';
import { useRefetchOnRevision } from '../../components/hooks';
import { Badge, Empty, Loading, Panel, QueryError, type Tone } from '../../components/ui';
import { LogViewer } from './LogViewer';

export function executionTone(s: ExecutionStatus): Tone {
  switch (s) {
    case ExecutionStatus.Succeeded:
      return 'good';
    case ExecutionStatus.Failed:
    case ExecutionStatus.Lost:
      return 'bad';
    case ExecutionStatus.Canceled:
      return 'warn';
    case ExecutionStatus.Queued:
    case ExecutionStatus.Submitted:
    case ExecutionStatus.Running:
      return 'info';
    default:
      throw new UnreachableCaseError(s);
  }
}

const seconds = (a: string | null, b: string | null) =>
  a && b ? (new Date(b).getTime() - new Date(a).getTime()) / 1000 : null;

/** Every attempt of one tile in one stage, newest first, with the selected attempt's logs. */
export function TileHistory(props: {
  stageId: string;
  tileId: string;
  relativePath?: string;
  executions?: readonly ExecutionEvent[];
  onClose(): void;
}) {
  const { data, loading, error, refetch } = useQuery(TileExecutionsDocument, {
    variables: { stageId: props.stageId, tileId: props.tileId },
    fetchPolicy: 'network-only',
  });
  // Refetch when an execution of this tile finishes (pushed), not on a timer.
  const finished = (props.executions ?? []).filter(
    (e) => e.tileId === props.tileId && e.stageId === props.stageId,
  ).length;
  useRefetchOnRevision(finished, () => void refetch(), 500);
  const [resubmit] = useMutation(ResubmitTilesDocument);
  const [chosen, setChosen] = useState<string | null>(null);
  const executions = data?.executions ?? [];
  const current = executions.find((e) => e.id === chosen) ?? executions[0];

  return (
    <Panel
      title={<span className="mono">{props.relativePath ?? `Tile ${props.tileId}`}</span>}
      className="split-side"
      testId="tile-history"
      actions={
        <>
          <ActionButton
            small
            onRun={async () => {
              const r = (await resubmit({ variables: { stageId: props.stageId, tileIds: [props.tileId] } })).data
                ?.resubmitTiles;
              void refetch();
              return r?.errors;
            }}
          >
            Resubmit
          </ActionButton>
          <button type="button" className="icon-btn" aria-label="Close tile" onClick={props.onClose}>
            ×
          </button>
        </>
      }
    >
      {error && <QueryError error={error} retry={() => void refetch()} />}
      {loading && !data && <Loading what="executions" />}
      {data && executions.length === 0 && <Empty>No attempts yet.</Empty>}
      {executions.length > 0 && (
        <table className="table executions-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Status</th>
              <th>Worker</th>
              <th className="num">Exit</th>
              <th className="num">Duration</th>
              <th className="num">CPU</th>
              <th className="num">Peak MB</th>
              <th>Finished</th>
            </tr>
          </thead>
          <tbody>
            {executions.map((e) => {
              const s = executionStatusOf(e.status);
              return (
                <tr
                  key={e.id}
                  className={e.id === current?.id ? 'row-active' : undefined}
                  onClick={() => setChosen(e.id)}
                  data-execution-status={s}
                >
                  <td>{e.attempt}</td>
                  <td>
                    <Badge tone={executionTone(s)}>{s}</Badge>
                    {e.failureReason && <div className="small warn-text">{failureReasonOf(e.failureReason)}</div>}
                  </td>
                  <td className="small">
                    {e.worker?.name ?? '—'}
                    {e.target && <span className="muted"> · {e.target.toLowerCase()}</span>}
                    {e.clusterJobId && <span className="muted"> #{e.clusterJobId}</span>}
                  </td>
                  <td className="num">{e.exitCode ?? '—'}</td>
                  <td className="num">{formatDuration(seconds(e.startedAt, e.finishedAt))}</td>
                  <td className="num">{formatDuration(e.cpuSeconds)}</td>
                  <td className="num">{formatNumber(e.peakMemoryMb, 1)}</td>
                  <td className="small">{formatTime(e.finishedAt)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {current && (
        <div className="execution-detail">
          {current.message && <p className="warn-text small">{current.message}</p>}
          <details>
            <summary className="small">
              argv ({current.argv.length}) · expected exit {current.expectedExitCode} · queued{' '}
              {formatTime(current.queuedAt)}
            </summary>
            <ol className="argv mono small">
              {current.argv.map((a, i) => (
                <li key={i}>{a}</li>
              ))}
            </ol>
          </details>
          <LogViewer
            key={current.id}
            executionId={current.id}
            running={!FINAL_EXECUTION_STATUSES.includes(executionStatusOf(current.status))}
            paths={{ stdout: current.stdoutPath, stderr: current.stderrPath }}
          />
        </div>
      )}
    </Panel>
  );
}
