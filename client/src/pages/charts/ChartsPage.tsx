import { useState } from 'react';
import { useQuery } from '@apollo/client/react';
import { StageMetricsDocument } from '../../api/generated';
import { useProjectLive } from '../../api/session';
import { formatDuration } from '../../components/format';
import { useRefetchOnRevision } from '../../components/hooks';
import { LineChart, type Series } from '../../components/LineChart';
import { ProjectHeader } from '../../components/ProjectHeader';
import { Loading, Panel, QueryError } from '../../components/ui';

const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#4d7c0f', '#be185d'];

const PERIODS = [
  { minutes: 15, bucket: 30, label: '15 min' },
  { minutes: 60, bucket: 60, label: '1 hour' },
  { minutes: 360, bucket: 300, label: '6 hours' },
  { minutes: 1440, bucket: 900, label: '24 hours' },
] as const;

/** Throughput, durations and peak memory per stage over time (InfluxDB through the stageMetrics query). */
export function ChartsPage(props: { projectId: string }) {
  const [period, setPeriod] = useState<(typeof PERIODS)[number]>(PERIODS[1]);
  const { data, loading, error, refetch } = useQuery(StageMetricsDocument, {
    variables: { projectId: props.projectId, sinceMinutes: period.minutes, bucketSeconds: period.bucket },
    fetchPolicy: 'cache-and-network',
  });
  const live = useProjectLive(props.projectId);
  // New finished executions are pushed: refresh the charts, at most every 15 s.
  useRefetchOnRevision(live?.executions.length ?? 0, () => void refetch(), 15_000);

  const stages = data?.project?.stages ?? [];
  const points = data?.stageMetrics ?? [];
  const to = Date.now();
  const from = to - period.minutes * 60_000;
  const perMinute = 60 / period.bucket;
  const build = (pick: (p: (typeof points)[number]) => number | null): Series[] =>
    stages
      .map((s, i) => ({
        name: s.name,
        color: PALETTE[i % PALETTE.length],
        points: points.filter((p) => p.stageId === s.id).map((p) => ({ t: new Date(p.time).getTime(), v: pick(p) })),
      }))
      .filter((s) => s.points.length > 0);

  return (
    <div className="page">
      <ProjectHeader
        projectId={props.projectId}
        tab="charts"
        extra={
          <div className="segmented" role="group" aria-label="Period">
            {PERIODS.map((p) => (
              <button
                key={p.label}
                type="button"
                className={p === period ? 'seg-active' : ''}
                aria-pressed={p === period}
                onClick={() => setPeriod(p)}
              >
                {p.label}
              </button>
            ))}
          </div>
        }
      />
      {error && <QueryError error={error} retry={() => void refetch()} />}
      {loading && !data && <Loading what="metrics" />}
      {data && (
        <div className="charts" data-testid="charts" data-points={points.length}>
          <Panel>
            <LineChart
              title="Throughput"
              unit="executions per minute"
              series={build((p) => p.count * perMinute)}
              from={from}
              to={to}
            />
          </Panel>
          <Panel>
            <LineChart
              title="Mean duration"
              unit="per execution"
              series={build((p) => p.meanDurationSeconds)}
              from={from}
              to={to}
              formatY={(v) => formatDuration(v)}
            />
          </Panel>
          <Panel>
            <LineChart
              title="Peak memory"
              unit="MB, highest in bucket"
              series={build((p) => p.maxPeakMemoryMb)}
              from={from}
              to={to}
            />
          </Panel>
        </div>
      )}
    </div>
  );
}
