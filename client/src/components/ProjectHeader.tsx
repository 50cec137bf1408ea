import type { ReactNode } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { InputState, UnreachableCaseError } from '@tileflow/shared';
import { inputState as inputStateOf } from '../api/enums';
import { PauseProjectDocument, ProjectDocument, StartProjectDocument } from '../api/generated';
import { Link } from '../router';
import { ActionButton } from './forms';
import { Badge, type Tone } from './ui';

export function inputStateTone(s: InputState): Tone {
  switch (s) {
    case InputState.Ok:
      return 'good';
    case InputState.Unknown:
      return 'neutral';
    case InputState.Missing:
    case InputState.BadLocation:
    case InputState.Malformed:
      return 'bad';
    default:
      throw new UnreachableCaseError(s);
  }
}

export function InputStateBadge(props: { state: InputState; message?: string | null }) {
  return (
    <Badge tone={inputStateTone(props.state)} title={props.message ?? undefined} testId="input-state">
      Input: {props.state.replace('-', ' ')}
    </Badge>
  );
}

export function ProcessingBadge(props: { processing: boolean }) {
  return (
    <Badge tone={props.processing ? 'info' : 'neutral'} testId="processing-state">
      {props.processing ? 'Processing' : 'Paused'}
    </Badge>
  );
}

const TABS = [
  { key: 'pipeline', label: 'Pipeline' },
  { key: 'map', label: 'Tile map' },
  { key: 'charts', label: 'Charts' },
  { key: 'settings', label: 'Settings' },
] as const;

/** The title block of every project page: name, states, start/pause, and the project's tabs. */
export function ProjectHeader(props: { projectId: string; tab: (typeof TABS)[number]['key']; extra?: ReactNode }) {
  const { data } = useQuery(ProjectDocument, { variables: { id: props.projectId }, fetchPolicy: 'cache-first' });
  const [start] = useMutation(StartProjectDocument);
  const [pause] = useMutation(PauseProjectDocument);
  const p = data?.project;
  return (
    <header className="page-header project-header">
      <div>
        <p className="crumbs">
          <Link to="/projects">Projects</Link> /
        </p>
        <h1>{p?.name ?? '…'}</h1>
        {p && (
          <div className="header-badges">
            <ProcessingBadge processing={p.isProcessing} />
            <InputStateBadge state={inputStateOf(p.inputState)} message={p.inputMessage} />
            {p.inputMessage && <span className="muted small input-message">{p.inputMessage}</span>}
          </div>
        )}
        <nav className="tabs" aria-label="Project">
          {TABS.map((t) => (
            <Link
              key={t.key}
              to={`/projects/${props.projectId}/${t.key}`}
              className={t.key === props.tab ? 'tab tab-active' : 'tab'}
              aria-current={t.key === props.tab ? 'page' : undefined}
            >
              {t.label}
            </Link>
          ))}
        </nav>
      </div>
      <div className="page-actions">
        {props.extra}
        {p &&
          (p.isProcessing ? (
            <ActionButton
              testId="pause-project"
              onRun={async () => (await pause({ variables: { id: p.id } })).data?.pauseProject.errors}
            >
              Pause project
            </ActionButton>
          ) : (
            <ActionButton
              variant="primary"
              testId="start-project"
              disabled={p.archived}
              onRun={async () => (await start({ variables: { id: p.id } })).data?.startProject.errors}
            >
              Start project
            </ActionButton>
          ))}
      </div>
    </header>
  );
}
