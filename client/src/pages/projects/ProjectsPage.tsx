import { useState } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { inputState as inputStateOf } from '../../api/enums';
import {
  ArchiveProjectDocument,
  PauseProjectDocument,
  ProjectsDocument,
  StartProjectDocument,
} from '../../api/generated';
import { useLive, useWatchProjects } from '../../api/session';
import { ActionButton } from '../../components/forms';
import { projectProgress } from '../../components/live-counts';
import { InputStateBadge, ProcessingBadge } from '../../components/ProjectHeader';
import { ProgressBar } from '../../components/StatusCounts';
import { Badge, Empty, Loading, PageHeader, QueryError } from '../../components/ui';
import { Link } from '../../router';
import { DuplicateDrawer } from './ProjectEditPage';

export function ProjectsPage() {
  const [includeArchived, setIncludeArchived] = useState(false);
  const { data, loading, error, refetch } = useQuery(ProjectsDocument, { variables: { includeArchived } });
  const [start] = useMutation(StartProjectDocument);
  const [pause] = useMutation(PauseProjectDocument);
  const [archive] = useMutation(ArchiveProjectDocument, { refetchQueries: [ProjectsDocument] });
  const [duplicating, setDuplicating] = useState<{ id: string; name: string } | null>(null);
  const projects = data?.projects ?? [];
  useWatchProjects(projects.filter((p) => !p.archived).map((p) => p.id));
  const live = useLive((s) => s.projects);

  return (
    <div className="page">
      <PageHeader
        title="Projects"
        subtitle="Acquisitions and their pipelines."
        actions={
          <>
            <label className="check">
              <input type="checkbox" checked={includeArchived} onChange={(e) => setIncludeArchived(e.target.checked)} />{' '}
              Show archived
            </label>
            <Link to="/projects/new" className="btn btn-primary">
              New project
            </Link>
          </>
        }
      />
      {error && <QueryError error={error} retry={() => void refetch()} />}
      {loading && !data && <Loading what="projects" />}
      {data && projects.length === 0 && (
        <Empty>
          No projects yet. <Link to="/projects/new">Create one</Link> for an acquisition folder.
        </Empty>
      )}
      {projects.length > 0 && (
        <table className="table projects-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Input</th>
              <th className="num">Tiles</th>
              <th>Stages</th>
              <th className="wide">Progress (all stages)</th>
              <th>State</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {projects.map((p) => {
              const progress = projectProgress(live[p.id], p.stages, p.stageCounts, p.tileCount, null);
              return (
                <tr key={p.id} data-project={p.name}>
                  <td>
                    <Link to={`/projects/${p.id}/pipeline`} className="strong">
                      {p.name}
                    </Link>
                    {p.description && <div className="muted small">{p.description}</div>}
                  </td>
                  <td>
                    <InputStateBadge state={inputStateOf(p.inputState)} message={p.inputMessage} />
                  </td>
                  <td className="num">{progress.tiles.toLocaleString()}</td>
                  <td className="num">{p.stages.length}</td>
                  <td>
                    {p.stages.length > 0 ? (
                      <ProgressBar counts={progress.counts} tiles={progress.work} />
                    ) : (
                      <span className="muted">No stages</span>
                    )}
                  </td>
                  <td>{p.archived ? <Badge>Archived</Badge> : <ProcessingBadge processing={p.isProcessing} />}</td>
                  <td className="actions">
                    {!p.archived &&
                      (p.isProcessing ? (
                        <ActionButton
                          small
                          onRun={async () => (await pause({ variables: { id: p.id } })).data?.pauseProject.errors}
                        >
                          Pause
                        </ActionButton>
                      ) : (
                        <ActionButton
                          small
                          onRun={async () => (await start({ variables: { id: p.id } })).data?.startProject.errors}
                        >
                          Start
                        </ActionButton>
                      ))}
                    <Link to={`/projects/${p.id}/settings`} className="btn btn-small">
                      Edit
                    </Link>
                    <button
                      type="button"
                      className="btn btn-small"
                      onClick={() => setDuplicating({ id: p.id, name: p.name })}
                    >
                      Duplicate
                    </button>
                    {!p.archived && (
                      <ActionButton
                        small
                        variant="danger"
                        onRun={async () => {
                          if (!window.confirm(`Archive "${p.name}"?`)) return;
                          return (await archive({ variables: { id: p.id } })).data?.archiveProject.errors;
                        }}
                      >
                        Archive
                      </ActionButton>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {duplicating && <DuplicateDrawer project={duplicating} onClose={() => setDuplicating(null)} />}
    </div>
  );
}
