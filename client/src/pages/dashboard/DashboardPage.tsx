import { useApolloClient, useQuery } from '@apollo/client/react';
import { workerStatus as workerStatusOf } from '../../api/enums';
import {
  DashboardDocument,
  DashboardStatsDocument,
  ProjectThroughputDocument,
  SchedulerHealthDocument,
  type DashboardQuery,
} from '../../api/generated';
import type { ProjectLive } from '../../api/live';
import { useLive, useWatchProjects } from '../../api/session';
import { formatAgo, formatDuration, formatNumber } from '../../components/format';
import { useNow, useRefetchOnRevision } from '../../components/hooks';
import { projectProgress } from '../../components/live-counts';
import { addCounts, countsFromGql, emptyCounts } from '../../components/status';
import { ProgressBar, StatusCounts } from '../../components/StatusCounts';
import { Badge, Empty, LoadBar, Loading, PageHeader, Panel, QueryError } from '../../components/ui';
import { Link } from '../../router';
import { workerTone } from '../workers/WorkersPage';

/** The scheduler counts as alive if it passed within this many seconds. */
const SCHEDULER_STALE_S = 30;

type DashboardProject = DashboardQuery['projects'][number];

/** Completions per minute over the last minutes, from the metrics store (a fallback until live samples exist). */
function useMetricsRate(projectId: string, now: number): number | null {
  const { data } = useQuery(ProjectThroughputDocument, { variables: { projectId }, fetchPolicy: 'cache-first' });
  const points = data?.stageMetrics ?? [];
  if (points.length === 0) return null;
  const first = Math.min(...points.map((p) => new Date(p.time).getTime()));
  const minutes = Math.max(1, (now - first) / 60_000);
  return points.reduce((n, p) => n + p.count, 0) / minutes;
}

function ActiveProjectRow(props: { project: DashboardProject; live: ProjectLive | undefined; now: number }) {
  const { project: p, live, now } = props;
  const fallback = useMetricsRate(p.id, now);
  const progress = projectProgress(live, p.stages, p.stageCounts, p.tileCount, fallback, now);
  return (
    <tr data-project={p.name}>
      <td>
        <Link to={`/projects/${p.id}/pipeline`} className="strong">
          {p.name}
        </Link>
        <div className="muted small">
          {progress.tiles.toLocaleString()} tiles · {p.stages.length} stage{p.stages.length === 1 ? '' : 's'}
        </div>
      </td>
      <td className="wide">
        <ProgressBar counts={progress.counts} tiles={progress.work} label={`${p.name}: work complete`} />
      </td>
      <td className="num">
        {progress.counts.failed > 0 ? <span className="bad-text">{progress.counts.failed.toLocaleString()}</span> : 0}
      </td>
      <td className="num">
        {progress.ratePerMinute === null ? '—' : `${formatNumber(progress.ratePerMinute, 1)}/min`}
      </td>
      <td className="num" data-testid="eta">
        {progress.remaining === 0 ? 'done' : progress.etaSeconds === null ? '—' : formatDuration(progress.etaSeconds)}
      </td>
    </tr>
  );
}

function Stat(props: { label: string; value: React.ReactNode; sub?: React.ReactNode; testId?: string }) {
  return (
    <div className="stat" data-testid={props.testId}>
      <div className="stat-label">{props.label}</div>
      <div className="stat-value">{props.value}</div>
      {props.sub && <div className="stat-sub">{props.sub}</div>}
    </div>
  );
}

export function DashboardPage() {
  const { data, loading, error, refetch } = useQuery(DashboardDocument);
  const health = useQuery(SchedulerHealthDocument, { pollInterval: 10_000, fetchPolicy: 'network-only' });
  const client = useApolloClient();
  const now = useNow(2000);
  const projects = data?.projects ?? [];
  const active = projects.filter((p) => p.isProcessing);
  useWatchProjects(projects.map((p) => p.id));
  const live = useLive((s) => s.projects);
  // The aggregates (throughput, totals) follow the pushes, at most every 5 s; lists and counts are pushed.
  const lastPush = Math.max(0, ...Object.values(live).map((p) => p.samples[p.samples.length - 1]?.at ?? 0));
  // (Written to the cache's `dashboard` field, which this page's query reads.)
  useRefetchOnRevision(
    lastPush,
    () => void client.query({ query: DashboardStatsDocument, fetchPolicy: 'network-only' }).catch(() => undefined),
    5000,
  );

  if (error) return <QueryError error={error} retry={() => void refetch()} />;
  if (loading && !data) return <Loading what="the dashboard" />;
  if (!data) return null;

  // Tiles per status: the pushed counts of each project where known, the queried ones elsewhere.
  let tiles = emptyCounts();
  for (const p of projects) {
    for (const s of p.stages) {
      const c = live[p.id]?.counts[s.id] ?? countsFromGql(p.stageCounts.find((x) => x.stageId === s.id)?.counts);
      tiles = addCounts(tiles, c);
    }
  }
  if (projects.length === 0) tiles = countsFromGql(data.dashboard.tilesByStatus);
  const h = health.data?.health ?? data.health;
  const seenAt = h.schedulerSeenAt ?? data.dashboard.schedulerSeenAt;
  const schedulerOk = seenAt !== null && (now - new Date(seenAt).getTime()) / 1000 < SCHEDULER_STALE_S;
  const workers = data.workers;

  return (
    <div className="page">
      <PageHeader title="Dashboard" subtitle={`Tileflow ${h.version}`} />
      <div className="stats">
        <Stat
          label="Active projects"
          value={data.dashboard.activeProjects}
          sub={`of ${data.dashboard.projects}`}
          testId="stat-active"
        />
        <Stat
          label="Workers online"
          value={data.dashboard.workersOnline}
          sub={`of ${workers.length} registered`}
          testId="stat-workers"
        />
        <Stat
          label="Throughput now"
          value={formatNumber(data.dashboard.throughputPerMinute)}
          sub="executions in the last minute"
          testId="stat-throughput"
        />
        <Stat
          label="Scheduler"
          testId="stat-scheduler"
          value={<span className={schedulerOk ? 'good-text' : 'bad-text'}>{schedulerOk ? 'Healthy' : 'Not seen'}</span>}
          sub={
            <>
              last pass {formatAgo(seenAt, now)} · database{' '}
              <Badge tone={h.database ? 'good' : 'bad'}>{h.database ? 'ok' : 'down'}</Badge> · redis{' '}
              <Badge tone={h.redis ? 'good' : 'bad'}>{h.redis ? 'ok' : 'down'}</Badge>
            </>
          }
        />
      </div>
      <Panel title="Tiles by status">
        <StatusCounts counts={tiles} showZero />
      </Panel>
      <Panel title="Active projects" actions={<Link to="/projects">All projects</Link>}>
        {active.length === 0 ? (
          <Empty>
            No project is processing. <Link to="/projects">Start one</Link>.
          </Empty>
        ) : (
          <table className="table" data-testid="active-projects">
            <thead>
              <tr>
                <th>Project</th>
                <th className="wide">Progress (all stages)</th>
                <th className="num">Failed</th>
                <th className="num">Rate</th>
                <th className="num">ETA</th>
              </tr>
            </thead>
            <tbody>
              {active.map((p) => (
                <ActiveProjectRow key={p.id} project={p} live={live[p.id]} now={now} />
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <Panel title="Workers" actions={<Link to="/workers">Manage</Link>}>
        {workers.length === 0 ? (
          <Empty>No worker has registered.</Empty>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>Worker</th>
                <th>Status</th>
                <th>Local load</th>
                <th>Cluster load</th>
                <th>Heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => {
                const s = workerStatusOf(w.status);
                return (
                  <tr key={w.id} data-worker={w.name}>
                    <td>
                      <strong>{w.name}</strong> <span className="muted small">{w.host}</span>
                    </td>
                    <td>
                      <Badge tone={workerTone(s)}>{s}</Badge>
                    </td>
                    <td>
                      <LoadBar value={w.localLoad} max={w.localCapacity} label={`${w.name} local load`} />
                    </td>
                    <td>
                      {w.clusterCapacity > 0 ? (
                        <LoadBar value={w.clusterLoad} max={w.clusterCapacity} label={`${w.name} cluster load`} />
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td className="small">{formatAgo(w.lastHeartbeatAt, now)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Panel>
    </div>
  );
}
