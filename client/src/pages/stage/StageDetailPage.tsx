import { useEffect, useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { TILE_STATUSES, TileStatus } from '@tileflow/shared';
import { stageKind as stageKindOf, tileStatus as tileStatusOf, toGql } from '../../api/enums';
import {
  CancelTilesDocument,
  PauseStageDocument,
  ResubmitTilesDocument,
  StageDetailDocument,
  StageTilesDocument,
  StartStageDocument,
} from '../../api/generated';
import { useProjectLive } from '../../api/session';
import { formatTime } from '../../components/format';
import { ActionButton, type FieldErrorList } from '../../components/forms';
import { useRefetchOnRevision } from '../../components/hooks';
import { stageCounts } from '../../components/live-counts';
import { STATUS_COLORS, statusLabel } from '../../components/status';
import { ProgressBar, StatusCounts } from '../../components/StatusCounts';
import { Badge, Empty, Loading, Panel, QueryError } from '../../components/ui';
import { Link, setSearch, useLocation } from '../../router';
import { KIND_LABELS } from '../pipeline/labels';
import { TileHistory } from './TileHistory';

const PAGE = 50;

function StatusPill({ status }: { status: TileStatus }) {
  return (
    <span className="status-pill" data-status={status}>
      <span className="dot" style={{ background: STATUS_COLORS[status] }} aria-hidden />
      {statusLabel(status)}
    </span>
  );
}

/** Sums resubmit results over several calls (for "all finished" = complete, failed and canceled). */
async function resubmitStatuses(
  run: (status: TileStatus) => Promise<{ count: number; errors: FieldErrorList } | undefined>,
  statuses: readonly TileStatus[],
): Promise<FieldErrorList> {
  const errors: Array<{ field: string; message: string }> = [];
  for (const s of statuses) {
    const r = await run(s);
    if (r) errors.push(...r.errors);
  }
  return errors;
}

export function StageDetailPage(props: { stageId: string }) {
  const { search } = useLocation();
  const statusParam = search.get('status');
  const status = statusParam && (TILE_STATUSES as string[]).includes(statusParam) ? (statusParam as TileStatus) : null;
  const q = search.get('q') ?? '';
  const page = Math.max(0, Number(search.get('page') ?? 0) || 0);
  const tileId = search.get('tile');
  const [searchText, setSearchText] = useState(q);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [notice, setNotice] = useState<string | null>(null);

  const detail = useQuery(StageDetailDocument, { variables: { id: props.stageId } });
  const stage = detail.data?.stage;
  const live = useProjectLive(stage?.project.id);
  const tiles = useQuery(StageTilesDocument, {
    variables: {
      id: props.stageId,
      status: status ? toGql(status) : null,
      search: q || null,
      offset: page * PAGE,
      limit: PAGE,
    },
    fetchPolicy: 'cache-and-network',
  });
  useRefetchOnRevision(live?.stageRevisions[props.stageId] ?? 0, () => void tiles.refetch());

  const [resubmit] = useMutation(ResubmitTilesDocument);
  const [cancel] = useMutation(CancelTilesDocument);
  const [pause] = useMutation(PauseStageDocument);
  const [start] = useMutation(StartStageDocument);

  // Typing in the search box filters after a short pause.
  useEffect(() => {
    if (searchText === q) return;
    const t = setTimeout(() => setSearch({ q: searchText || null, page: null }), 300);
    return () => clearTimeout(t);
  }, [searchText, q]);
  useEffect(() => setSelected(new Set()), [status, q, page]);

  if (detail.error) return <QueryError error={detail.error} retry={() => void detail.refetch()} />;
  if (detail.loading && !stage) return <Loading what="the stage" />;
  if (!stage) return <p className="page">No such stage.</p>;

  const counts = stageCounts(live, stage.id, stage.counts);
  const tileCount = live?.tiles ?? stage.project.tileCount;
  const pageData = tiles.data?.stage?.tiles;
  const items = pageData?.items ?? [];
  const total = pageData?.total ?? 0;
  const allOnPage = items.length > 0 && items.every((t) => selected.has(t.tileId));

  const runResubmit = async (vars: { tileIds?: string[]; status?: TileStatus }) => {
    const r = (
      await resubmit({
        variables: {
          stageId: stage.id,
          tileIds: vars.tileIds ?? null,
          status: vars.status ? toGql(vars.status) : null,
        },
      })
    ).data?.resubmitTiles;
    if (r && r.errors.length === 0) setNotice(`${r.count} tile${r.count === 1 ? '' : 's'} resubmitted`);
    return r;
  };

  return (
    <div className="page">
      <header className="page-header">
        <div>
          <p className="crumbs">
            <Link to="/projects">Projects</Link> /{' '}
            <Link to={`/projects/${stage.project.id}/pipeline`}>{stage.project.name}</Link> /
          </p>
          <h1>{stage.name}</h1>
          <div className="header-badges">
            <Badge>{KIND_LABELS[stageKindOf(stage.kind)]}</Badge>
            <Badge tone={stage.isProcessing ? 'info' : 'warn'} testId="stage-state">
              {stage.isProcessing ? 'Processing' : 'Paused'}
            </Badge>
            <span className="muted small">
              Task <strong>{stage.taskDefinition.name}</strong> · output <code>{stage.outputPath}</code>
            </span>
          </div>
        </div>
        <div className="page-actions">
          {stage.isProcessing ? (
            <ActionButton onRun={async () => (await pause({ variables: { id: stage.id } })).data?.pauseStage.errors}>
              Pause stage
            </ActionButton>
          ) : (
            <ActionButton
              variant="primary"
              onRun={async () => (await start({ variables: { id: stage.id } })).data?.startStage.errors}
            >
              Resume stage
            </ActionButton>
          )}
        </div>
      </header>

      <Panel
        title="Progress"
        actions={
          <>
            <ActionButton
              testId="resubmit-failed"
              disabled={counts.failed === 0}
              onRun={async () => (await runResubmit({ status: TileStatus.Failed }))?.errors}
            >
              Resubmit failed ({counts.failed.toLocaleString()})
            </ActionButton>
            <ActionButton
              onRun={async () => {
                if (!window.confirm('Resubmit every finished tile of this stage (complete, failed and canceled)?'))
                  return;
                return resubmitStatuses(
                  async (s) => runResubmit({ status: s }),
                  [TileStatus.Complete, TileStatus.Failed, TileStatus.Canceled],
                );
              }}
            >
              Resubmit all
            </ActionButton>
            <ActionButton
              variant="danger"
              disabled={counts.queued + counts.processing === 0}
              onRun={async () => {
                const r = (await cancel({ variables: { stageId: stage.id } })).data?.cancelTiles;
                if (r && r.errors.length === 0) setNotice(`${r.count} tile${r.count === 1 ? '' : 's'} canceled`);
                return r?.errors;
              }}
            >
              Cancel queued and running
            </ActionButton>
          </>
        }
      >
        <ProgressBar counts={counts} tiles={tileCount} />
        <StatusCounts
          counts={counts}
          showZero
          selected={status}
          onSelect={(s) => setSearch({ status: s === status ? null : s, page: null })}
        />
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
      </Panel>

      <div className="split">
        <Panel
          title={status ? `${statusLabel(status)} tiles` : 'Tiles'}
          className="split-main"
          actions={
            <input
              type="search"
              className="search"
              aria-label="Search tiles by path"
              placeholder="Search relative paths…"
              value={searchText}
              onChange={(e) => setSearchText(e.target.value)}
            />
          }
        >
          {tiles.error && <QueryError error={tiles.error} retry={() => void tiles.refetch()} />}
          <div className="table-toolbar">
            <span className="muted small">
              {total === 0
                ? 'No tiles'
                : `${(page * PAGE + 1).toLocaleString()}–${(page * PAGE + items.length).toLocaleString()} of ${total.toLocaleString()}`}
              {status && (
                <>
                  {' '}
                  ·{' '}
                  <button type="button" className="link" onClick={() => setSearch({ status: null, page: null })}>
                    show all statuses
                  </button>
                </>
              )}
            </span>
            <span className="spacer" />
            <ActionButton
              small
              disabled={selected.size === 0}
              testId="resubmit-selected"
              onRun={async () => {
                const r = await runResubmit({ tileIds: [...selected] });
                if (r && r.errors.length === 0) setSelected(new Set());
                return r?.errors;
              }}
            >
              Resubmit selected ({selected.size})
            </ActionButton>
            <ActionButton
              small
              variant="danger"
              disabled={selected.size === 0}
              onRun={async () => {
                const r = (await cancel({ variables: { stageId: stage.id, tileIds: [...selected] } })).data
                  ?.cancelTiles;
                if (r && r.errors.length === 0) {
                  setNotice(`${r.count} tile${r.count === 1 ? '' : 's'} canceled`);
                  setSelected(new Set());
                }
                return r?.errors;
              }}
            >
              Cancel selected
            </ActionButton>
            <button
              type="button"
              className="btn btn-small"
              aria-label="Previous page"
              disabled={page === 0}
              onClick={() => setSearch({ page: page - 1 || null })}
            >
              ‹
            </button>
            <button
              type="button"
              className="btn btn-small"
              aria-label="Next page"
              disabled={(page + 1) * PAGE >= total}
              onClick={() => setSearch({ page: page + 1 })}
            >
              ›
            </button>
          </div>
          {tiles.loading && !pageData ? (
            <Loading what="tiles" />
          ) : items.length === 0 ? (
            <Empty>No tiles match.</Empty>
          ) : (
            <table className="table tiles-table" data-testid="stage-tiles">
              <thead>
                <tr>
                  <th className="check-col">
                    <input
                      type="checkbox"
                      aria-label="Select every tile on this page"
                      checked={allOnPage}
                      onChange={() => {
                        const next = new Set(selected);
                        for (const t of items) {
                          if (allOnPage) next.delete(t.tileId);
                          else next.add(t.tileId);
                        }
                        setSelected(next);
                      }}
                    />
                  </th>
                  <th>Relative path</th>
                  <th className="num">x</th>
                  <th className="num">y</th>
                  <th className="num">z</th>
                  <th>Status</th>
                  <th className="num">Attempts</th>
                  <th>Updated</th>
                </tr>
              </thead>
              <tbody>
                {items.map((t) => (
                  <tr
                    key={t.tileId}
                    className={t.tileId === tileId ? 'row-active' : undefined}
                    data-tile={t.relativePath}
                    data-status={tileStatusOf(t.status)}
                    onClick={(e) => {
                      if ((e.target as HTMLElement).closest('input,button,a')) return;
                      setSearch({ tile: t.tileId });
                    }}
                  >
                    <td className="check-col">
                      <input
                        type="checkbox"
                        aria-label={`Select ${t.relativePath}`}
                        checked={selected.has(t.tileId)}
                        onChange={() => {
                          const next = new Set(selected);
                          if (next.has(t.tileId)) next.delete(t.tileId);
                          else next.add(t.tileId);
                          setSelected(next);
                        }}
                      />
                    </td>
                    <td className="mono">
                      <button type="button" className="link" onClick={() => setSearch({ tile: t.tileId })}>
                        {t.relativePath}
                      </button>
                    </td>
                    <td className="num">{t.x ?? '—'}</td>
                    <td className="num">{t.y ?? '—'}</td>
                    <td className="num">{t.z ?? '—'}</td>
                    <td>
                      <StatusPill status={tileStatusOf(t.status)} />
                    </td>
                    <td className="num">{t.attempts}</td>
                    <td className="small">{formatTime(t.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Panel>
        {tileId && (
          <TileHistory
            stageId={stage.id}
            tileId={tileId}
            relativePath={items.find((t) => t.tileId === tileId)?.relativePath}
            executions={live?.executions}
            onClose={() => setSearch({ tile: null })}
          />
        )}
      </div>
    </div>
  );
}
