import { useEffect, useMemo, useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { TILE_STATUSES, TileStatus } from '@tileflow/shared';
import { ResubmitTilesDocument, TileMapProjectDocument } from '../../api/generated';
import { planeRevision } from '../../api/live';
import { useProjectLive } from '../../api/session';
import { ActionButton } from '../../components/forms';
import { useRefetchOnRevision } from '../../components/hooks';
import { ProjectHeader } from '../../components/ProjectHeader';
import { STATUS_COLORS, statusLabel } from '../../components/status';
import { StatusCounts } from '../../components/StatusCounts';
import { Empty, Loading, Panel, QueryError } from '../../components/ui';
import { Link, setSearch, useLocation } from '../../router';
import {
  EMPTY,
  boundsOf,
  buildPlaneModel,
  countCells,
  positionOf,
  stageDepths,
  tileIdsOf,
  unionBounds,
  type Bounds,
  type PlaneModel,
  type StageChoice,
} from './geometry';
import { TileMapCanvas } from './TileMapCanvas';
import { usePlane } from './usePlane';

const FURTHEST = 'furthest';

function PlaneTable(props: { model: PlaneModel; stageNames: string[] }) {
  const { model } = props;
  return (
    <div className="plane-table-wrap">
      <table className="table plane-table" aria-label={`Tiles of the plane`} data-testid="plane-table">
        <thead>
          <tr>
            <th className="num">x</th>
            <th className="num">y</th>
            <th>Relative path</th>
            {props.stageNames.map((n, i) => (
              <th key={i}>{n}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {model.tiles.map((t) => (
            <tr key={t.tileId} data-tile={t.relativePath}>
              <td className="num">{t.x ?? '—'}</td>
              <td className="num">{t.y ?? '—'}</td>
              <td className="mono">{t.relativePath}</td>
              {t.statuses.map((s, i) => (
                <td key={i} data-status={s}>
                  {s}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A z-plane of the project as a grid of tiles coloured by status, live; hover, click and drag to select. */
export function TileMapPage(props: { projectId: string }) {
  const { search } = useLocation();
  const meta = useQuery(TileMapProjectDocument, { variables: { id: props.projectId } });
  const live = useProjectLive(props.projectId);
  useRefetchOnRevision(live?.inputRevision ?? 0, () => void meta.refetch(), 2000);
  const project = meta.data?.project;
  const planes = project?.planes ?? [];
  const zParam = search.get('z');
  const z = zParam !== null && /^-?\d+$/.test(zParam) ? Number(zParam) : (planes[0] ?? null);
  const stageParam = search.get('stage') ?? FURTHEST;
  const revision = z === null ? 0 : planeRevision(live, z);
  const { plane, stale, error, fetches } = usePlane(props.projectId, z, revision);
  const shown = plane ?? stale;

  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  const [focusCell, setFocusCell] = useState(-1);
  const [hover, setHover] = useState<{ cell: number; x: number; y: number } | null>(null);
  const [actionStage, setActionStage] = useState<string | null>(null);
  const [showTable, setShowTable] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [resubmit] = useMutation(ResubmitTilesDocument);

  useEffect(() => {
    setSelected(new Set());
    setFocusCell(-1);
  }, [z, props.projectId]);

  const stages = useMemo(() => project?.stages ?? [], [project]);
  const depthById = useMemo(() => {
    const d = stageDepths(stages);
    return new Map(stages.map((s, i) => [s.id, d[i]]));
  }, [stages]);
  const nameById = useMemo(() => new Map(stages.map((s) => [s.id, s.name])), [stages]);

  // Bounds: the sample's extents (stable while tiles arrive), widened to the tiles actually present.
  const ext = project?.extents;
  const tileBounds = shown ? boundsOf(shown.tiles) : null;
  const extBounds: Bounds | null =
    ext && ext.minX !== null && ext.maxX !== null && ext.minY !== null && ext.maxY !== null
      ? { minX: ext.minX, maxX: ext.maxX, minY: ext.minY, maxY: ext.maxY }
      : null;
  const b = unionBounds(extBounds, tileBounds);
  const boundsKey = b ? `${b.minX},${b.maxX},${b.minY},${b.maxY}` : '';
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const bounds = useMemo(() => b, [boundsKey]);

  const choice: StageChoice = useMemo(() => {
    if (!shown || stageParam === FURTHEST) return { kind: 'furthest' };
    const index = shown.stageIds.indexOf(stageParam);
    return index < 0 ? { kind: 'furthest' } : { kind: 'stage', index };
  }, [shown, stageParam]);

  const model = useMemo(() => {
    if (!shown || !bounds) return null;
    const depths = shown.stageIds.map((id) => depthById.get(id) ?? 1);
    return buildPlaneModel(shown.tiles, bounds, choice, depths);
  }, [shown, bounds, choice, depthById]);

  if (meta.error) return <QueryError error={meta.error} retry={() => void meta.refetch()} />;
  if (meta.loading && !project) return <Loading what="the tile map" />;
  if (!project) return <p className="page">No such project.</p>;

  const planeIndex = z === null ? -1 : planes.indexOf(z);
  const stageIds = shown?.stageIds ?? stages.map((s) => s.id);
  const stageNames = stageIds.map((id) => nameById.get(id) ?? '?');

  // The stage that box-select actions apply to: the one shown, else the chosen one, else the one with most failures.
  const selectedTiles = model
    ? [...selected]
        .map((c) => model.tileAt[c])
        .filter((i) => i >= 0)
        .map((i) => model.tiles[i])
    : [];
  const failedIn = (index: number) => selectedTiles.filter((t) => t.statuses[index] === TileStatus.Failed).length;
  let defaultActionIndex = choice.kind === 'stage' ? choice.index : 0;
  if (choice.kind === 'furthest') {
    let best = 0;
    stageIds.forEach((_, i) => {
      if (failedIn(i) > failedIn(best)) best = i;
    });
    defaultActionIndex = best;
  }
  const actionIndex =
    actionStage && stageIds.includes(actionStage) ? stageIds.indexOf(actionStage) : defaultActionIndex;
  const actionStageId = stageIds[actionIndex];
  const failedSelected = selectedTiles.filter((t) => t.statuses[actionIndex] === TileStatus.Failed);

  const runResubmit = async (tileIds: string[]) => {
    if (!actionStageId) return [{ field: 'stageId', message: 'Add a stage first' }];
    const r = (await resubmit({ variables: { stageId: actionStageId, tileIds } })).data?.resubmitTiles;
    if (r && r.errors.length === 0) {
      setNotice(
        `${r.count} tile${r.count === 1 ? '' : 's'} resubmitted in ${nameById.get(actionStageId) ?? 'the stage'}`,
      );
      setSelected(new Set());
    }
    return r?.errors;
  };

  const focusTile = focusCell >= 0 && model ? model.tiles[model.tileAt[focusCell]] : undefined;
  const hoverTile = hover && model && hover.cell >= 0 ? model.tiles[model.tileAt[hover.cell]] : undefined;

  return (
    <div className="page">
      <ProjectHeader projectId={props.projectId} tab="map" />
      {planes.length === 0 ? (
        <Empty>No tiles recorded yet: the map fills in as the input source records tiles.</Empty>
      ) : (
        <>
          <div className="tilemap-toolbar">
            <label className="inline-field">
              <span>Show</span>
              <select
                aria-label="Stage shown"
                value={stageParam}
                onChange={(e) => setSearch({ stage: e.target.value === FURTHEST ? null : e.target.value })}
              >
                <option value={FURTHEST}>Furthest stage reached</option>
                {stages.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
            <div className="plane-picker">
              <button
                type="button"
                className="btn btn-small"
                aria-label="Previous plane"
                disabled={planeIndex <= 0}
                onClick={() => setSearch({ z: planes[planeIndex - 1] })}
              >
                ‹
              </button>
              <input
                type="range"
                aria-label="Plane"
                min={0}
                max={Math.max(0, planes.length - 1)}
                step={1}
                value={Math.max(0, planeIndex)}
                onChange={(e) => setSearch({ z: planes[Number(e.target.value)] })}
              />
              <button
                type="button"
                className="btn btn-small"
                aria-label="Next plane"
                disabled={planeIndex < 0 || planeIndex >= planes.length - 1}
                onClick={() => setSearch({ z: planes[planeIndex + 1] })}
              >
                ›
              </button>
              <span className="plane-label" data-testid="plane-label">
                z = <strong>{z}</strong>{' '}
                <span className="muted">
                  ({planeIndex + 1} of {planes.length})
                </span>
                {project.skippedZPlanes.includes(z ?? NaN) && <span className="warn-text"> · skipped plane</span>}
              </span>
            </div>
            {model && <StatusCounts counts={model.counts} />}
          </div>
          {error != null && <QueryError error={error} />}
          <div className="tilemap-body">
            <div className="tilemap-main">
              {!model ? (
                <Loading what={`plane ${z}`} />
              ) : (
                <div className="tilemap-canvas-area">
                  <TileMapCanvas
                    model={model}
                    selected={selected}
                    data={{ z: shown!.z, revision: fetches, stage: stageParam }}
                    onHover={(cell, at) => setHover(at && cell >= 0 ? { cell, ...at } : null)}
                    onCellClick={(cell, additive) => {
                      if (model.tileAt[cell] < 0) return;
                      setFocusCell(cell);
                      const next = new Set(additive ? selected : []);
                      if (additive && next.has(cell)) next.delete(cell);
                      else next.add(cell);
                      setSelected(next);
                    }}
                    onBoxSelect={(cells, additive) => {
                      const next = new Set(additive ? selected : []);
                      for (const c of cells) if (model.codes[c] !== EMPTY) next.add(c);
                      setSelected(next);
                      setFocusCell(-1);
                    }}
                  />
                  {hover && hoverTile && (
                    <div className="tooltip" style={{ left: hover.x + 14, top: hover.y + 14 }} role="tooltip">
                      <div className="mono">{hoverTile.relativePath}</div>
                      <div className="muted small">
                        x {hoverTile.x}, y {hoverTile.y}
                      </div>
                      <ul className="tooltip-statuses">
                        {hoverTile.statuses.map((s, i) => (
                          <li key={i}>
                            <span className="dot" style={{ background: STATUS_COLORS[s] }} /> {stageNames[i]}: {s}
                          </li>
                        ))}
                      </ul>
                    </div>
                  )}
                  {hover && !hoverTile && hover.cell >= 0 && (
                    <div className="tooltip" style={{ left: hover.x + 14, top: hover.y + 14 }} role="tooltip">
                      <span className="muted small">
                        x {positionOf(model, hover.cell).x}, y {positionOf(model, hover.cell).y}: no tile
                      </span>
                    </div>
                  )}
                </div>
              )}
              {model && model.unplaced > 0 && (
                <p className="muted small">
                  {model.unplaced} items of this plane have no lattice position and are not drawn (see the table).
                </p>
              )}
              <p className="muted small legend">
                {TILE_STATUSES.map((s) => (
                  <span key={s} className="legend-item">
                    <span className="dot" style={{ background: STATUS_COLORS[s] }} /> {statusLabel(s)}
                  </span>
                ))}
                <span className="legend-hint">
                  Click a tile for details; drag a rectangle to select tiles (Shift adds).
                </span>
              </p>
            </div>
            <aside className="tilemap-side">
              {selected.size > 0 && model ? (
                <Panel
                  title={`${selected.size} tile${selected.size === 1 ? '' : 's'} selected`}
                  testId="selection-panel"
                >
                  <StatusCounts counts={countCells(model, selected)} />
                  <label className="inline-field">
                    <span>In stage</span>
                    <select
                      aria-label="Stage to act on"
                      value={actionStageId ?? ''}
                      onChange={(e) => setActionStage(e.target.value)}
                    >
                      {stageIds.map((id, i) => (
                        <option key={id} value={id}>
                          {stageNames[i]}
                        </option>
                      ))}
                    </select>
                  </label>
                  <div className="stack">
                    <ActionButton
                      variant="primary"
                      testId="resubmit-failed-selection"
                      disabled={failedSelected.length === 0}
                      onRun={() => runResubmit(failedSelected.map((t) => t.tileId))}
                    >
                      Resubmit failed ({failedSelected.length})
                    </ActionButton>
                    <ActionButton testId="resubmit-selection" onRun={() => runResubmit(tileIdsOf(model, selected))}>
                      Resubmit all selected ({selectedTiles.length})
                    </ActionButton>
                    <button type="button" className="btn btn-plain" onClick={() => setSelected(new Set())}>
                      Clear selection
                    </button>
                  </div>
                  {focusTile && (
                    <div className="tile-detail" data-testid="tile-detail">
                      <h3 className="mono">{focusTile.relativePath}</h3>
                      <p className="muted small">
                        x {focusTile.x}, y {focusTile.y}, z {shown?.z}
                      </p>
                      <ul className="tile-stages">
                        {focusTile.statuses.map((s, i) => (
                          <li key={i}>
                            <span className="dot" style={{ background: STATUS_COLORS[s] }} />{' '}
                            <Link to={`/stages/${stageIds[i]}?tile=${focusTile.tileId}`}>{stageNames[i]}</Link>:{' '}
                            {statusLabel(s)}
                          </li>
                        ))}
                      </ul>
                    </div>
                  )}
                </Panel>
              ) : (
                <Panel title="Selection">
                  <p className="muted small">
                    Click a tile to see its status in every stage, or drag over tiles to act on several.
                  </p>
                </Panel>
              )}
              {notice && (
                <p className="notice" role="status">
                  {notice}
                </p>
              )}
            </aside>
          </div>
          <details
            className="plane-table-details"
            onToggle={(e) => setShowTable((e.target as HTMLDetailsElement).open)}
          >
            <summary>Plane as a table ({shown?.tiles.length ?? 0} tiles)</summary>
            {showTable && model && <PlaneTable model={model} stageNames={stageNames} />}
          </details>
        </>
      )}
    </div>
  );
}
