import { useEffect, type ReactNode } from 'react';
import { errorMessage } from './forms';

export type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'info';

export function Badge(props: { tone?: Tone; children: ReactNode; title?: string; testId?: string }) {
  return (
    <span className={`badge badge-${props.tone ?? 'neutral'}`} title={props.title} data-testid={props.testId}>
      {props.children}
    </span>
  );
}

export function Loading(props: { what?: string }) {
  return (
    <p className="loading" role="status">
      Loading{props.what ? ` ${props.what}` : ''}…
    </p>
  );
}

export function QueryError(props: { error: unknown; retry?: () => void }) {
  return (
    <div className="query-error" role="alert">
      <strong>Could not load:</strong> {errorMessage(props.error)}
      {props.retry && (
        <button type="button" className="btn btn-small" onClick={props.retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty(props: { children: ReactNode }) {
  return <div className="empty">{props.children}</div>;
}

export function PageHeader(props: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle && <p className="subtitle">{props.subtitle}</p>}
      </div>
      {props.actions && <div className="page-actions">{props.actions}</div>}
    </header>
  );
}

export function Panel(props: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
}) {
  return (
    <section className={`panel ${props.className ?? ''}`} data-testid={props.testId}>
      {(props.title || props.actions) && (
        <div className="panel-head">
          {props.title && <h2>{props.title}</h2>}
          {props.actions && <div className="panel-actions">{props.actions}</div>}
        </div>
      )}
      {props.children}
    </section>
  );
}

/** A side drawer for forms (Escape closes it). */
export function Drawer(props: { title: ReactNode; onClose(): void; children: ReactNode; testId?: string }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && props.onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [props]);
  return (
    <div className="drawer-backdrop" onMouseDown={(e) => e.target === e.currentTarget && props.onClose()}>
      <aside
        className="drawer"
        role="dialog"
        aria-modal="true"
        aria-label={typeof props.title === 'string' ? props.title : undefined}
        data-testid={props.testId}
      >
        <div className="drawer-head">
          <h2>{props.title}</h2>
          <button type="button" className="icon-btn" aria-label="Close" onClick={props.onClose}>
            ×
          </button>
        </div>
        <div className="drawer-body">{props.children}</div>
      </aside>
    </div>
  );
}

/** A load bar: `value` of `max`, coloured by how full it is. */
export function LoadBar(props: { value: number; max: number; label: string }) {
  const f = props.max > 0 ? Math.min(1, props.value / props.max) : 0;
  const tone = f >= 1 ? 'full' : f >= 0.75 ? 'high' : 'ok';
  return (
    <span className="loadbar" title={`${props.label}: ${props.value} of ${props.max}`}>
      <span
        className="loadbar-track"
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={props.max}
        aria-valuenow={props.value}
      >
        <span className={`loadbar-fill loadbar-${tone}`} style={{ width: `${f * 100}%` }} />
      </span>
      <span className="loadbar-text">
        {Number(props.value.toFixed(2))} / {Number(props.max.toFixed(2))}
      </span>
    </span>
  );
}
