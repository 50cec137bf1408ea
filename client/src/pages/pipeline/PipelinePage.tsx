import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import type { StatusCounts as Counts } from '@tileflow/shared';
import { inputKind as inputKindOf, inputState as inputStateOf, stageKind as stageKindOf } from '../../api/enums';
import {
  PauseStageDocument,
  PipelineDocument,
  StartStageDocument,
  type StageFieldsFragment,
} from '../../api/generated';
import { useProjectLive } from '../../api/session';
import { ActionButton } from '../../components/forms';
import { stageCounts } from '../../components/live-counts';
import { InputStateBadge, ProjectHeader } from '../../components/ProjectHeader';
import { ProgressBar, StatusCounts } from '../../components/StatusCounts';
import { Badge, Empty, Loading, QueryError } from '../../components/ui';
import { Link } from '../../router';
import { INPUT_KIND_LABELS } from '../projects/input-options';
import { KIND_LABELS } from './labels';
import { ROOT, layoutTree } from './layout';
import { StageDrawer } from './StageDrawer';

const NODE_W = 280;
const NODE_H = 176;
const COL_GAP = 56;
const ROW_GAP = 22;

type DrawerState = { mode: 'create'; parentId: string | null } | { mode: 'edit'; stage: StageFieldsFragment } | null;

function StageNode(props: {
  stage: StageFieldsFragment;
  counts: Counts;
  tiles: number;
  onAdd(): void;
  onEdit(): void;
}) {
  const { stage, counts } = props;
  const [pause] = useMutation(PauseStageDocument);
  const [start] = useMutation(StartStageDocument);
  const script = stage.taskDefinition.scriptStatus;
  return (
    <div
      className={`node stage-node${stage.isProcessing ? '' : ' node-paused'}`}
      data-stage={stage.name}
      data-processing={stage.isProcessing}
    >
      <div className="node-head">
        <Link to={`/stages/${stage.id}`} className="node-title">
          {stage.name}
        </Link>
        <Badge tone="neutral">{KIND_LABELS[stageKindOf(stage.kind)]}</Badge>
        {!stage.isProcessing && <Badge tone="warn">paused</Badge>}
      </div>
      <div className="node-task muted small" title={stage.taskDefinition.script}>
        {stage.taskDefinition.name}
        {(!script.exists || !script.executable) && (
          <span className="warn-text" title={script.message ?? undefined}>
            {' '}
            · script {script.exists ? 'not executable' : 'missing'}
          </span>
        )}
      </div>
      <ProgressBar counts={counts} tiles={props.tiles} label={`${stage.name}: tiles complete`} />
      <StatusCounts counts={counts} />
      <div className="node-actions">
        {stage.isProcessing ? (
          <ActionButton
            small
            onRun={async () => (await pause({ variables: { id: stage.id } })).data?.pauseStage.errors}
            testId={`pause-stage-${stage.name}`}
          >
            Pause
          </ActionButton>
        ) : (
          <ActionButton
            small
            onRun={async () => (await start({ variables: { id: stage.id } })).data?.startStage.errors}
            testId={`resume-stage-${stage.name}`}
          >
            Resume
          </ActionButton>
        )}
        <button type="button" className="btn btn-small" onClick={props.onEdit}>
          Edit
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={props.onAdd}
          aria-label={`Add a stage after ${stage.name}`}
        >
          + Downstream
        </button>
      </div>
    </div>
  );
}

/** The project's stages as a tree, left to right from the input source, with live counts. */
export function PipelinePage(props: { projectId: string }) {
  const { data, loading, error, refetch } = useQuery(PipelineDocument, { variables: { id: props.projectId } });
  const live = useProjectLive(props.projectId);
  const [drawer, setDrawer] = useState<DrawerState>(null);
  const project = data?.project;

  if (error) return <QueryError error={error} retry={() => void refetch()} />;
  if (loading && !data) return <Loading what="the pipeline" />;
  if (!project) return <p className="page">No such project.</p>;

  const stages = project.stages.filter((s) => !s.archived);
  const tiles = live?.tiles ?? project.tileCount;
  const { placed, rows, depth } = layoutTree(stages.map((s) => ({ id: s.id, parentId: s.parentId })));
  const byId = new Map(stages.map((s) => [s.id, s]));
  const pos = new Map(placed.map((p) => [p.id, { x: p.depth * (NODE_W + COL_GAP), y: p.row * (NODE_H + ROW_GAP) }]));
  const width = (depth + 1) * (NODE_W + COL_GAP) - COL_GAP;
  const height = rows * (NODE_H + ROW_GAP) - ROW_GAP;

  return (
    <div className="page">
      <ProjectHeader projectId={props.projectId} tab="pipeline" />
      {stages.length === 0 && (
        <Empty>
          No stages yet: add the first one with <strong>+ Stage</strong> on the input node.
        </Empty>
      )}
      <div className="graph-scroll">
        <div className="graph" style={{ width, height }} data-testid="pipeline-graph">
          <svg className="graph-edges" width={width} height={height} aria-hidden>
            {placed
              .filter((p) => p.parentId !== null)
              .map((p) => {
                const from = pos.get(p.parentId!)!;
                const to = pos.get(p.id)!;
                const x1 = from.x + NODE_W;
                const y1 = from.y + NODE_H / 2;
                const x2 = to.x;
                const y2 = to.y + NODE_H / 2;
                const mx = (x1 + x2) / 2;
                return <path key={p.id} d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`} />;
              })}
          </svg>
          {placed.map((p) => {
            const at = pos.get(p.id)!;
            const style = { left: at.x, top: at.y, width: NODE_W, height: NODE_H };
            if (p.id === ROOT) {
              return (
                <div key={p.id} className="node input-node" style={style} data-stage="input">
                  <div className="node-head">
                    <span className="node-title">Input</span>
                    <InputStateBadge state={inputStateOf(project.inputState)} message={project.inputMessage} />
                  </div>
                  <div className="muted small">{INPUT_KIND_LABELS[inputKindOf(project.inputKind)]}</div>
                  <div className="mono small ellipsis" title={project.rootPath}>
                    {project.rootPath}
                  </div>
                  <div className="input-tiles">
                    <span className="big-number" data-testid="tile-count">
                      {tiles.toLocaleString()}
                    </span>{' '}
                    items
                  </div>
                  {project.inputMessage && (
                    <div className="warn-text small ellipsis" title={project.inputMessage}>
                      {project.inputMessage}
                    </div>
                  )}
                  <div className="node-actions">
                    <button
                      type="button"
                      className="btn btn-small btn-primary"
                      onClick={() => setDrawer({ mode: 'create', parentId: null })}
                    >
                      + Stage
                    </button>
                  </div>
                </div>
              );
            }
            const stage = byId.get(p.id)!;
            return (
              <div key={p.id} className="node-slot" style={style}>
                <StageNode
                  stage={stage}
                  counts={stageCounts(live, stage.id, stage.counts)}
                  tiles={tiles}
                  onAdd={() => setDrawer({ mode: 'create', parentId: stage.id })}
                  onEdit={() => setDrawer({ mode: 'edit', stage })}
                />
              </div>
            );
          })}
        </div>
      </div>
      {drawer && (
        <StageDrawer
          projectId={project.id}
          stages={stages}
          definitions={data.taskDefinitions}
          state={drawer}
          onClose={() => setDrawer(null)}
        />
      )}
    </div>
  );
}
