import { useRef, useState, type KeyboardEvent } from 'react';
import { STANDARD_PARAMETERS, segmentArgument } from './parameters';

export interface ArgumentEditorProps {
  /** The arguments, one argv element each: literals with `${PARAMETER}` references. */
  value: readonly string[];
  onChange(args: string[]): void;
  /** Names offered in the palette; default: the standard parameters. */
  offered?: readonly string[];
  /** Names that resolve (standard and project parameters); others are flagged. Default: the offered ones. */
  known?: readonly string[];
  id?: string;
  disabled?: boolean;
}

function insertAt(text: string, at: number | null, insert: string): { text: string; caret: number } {
  const i = at ?? text.length;
  return { text: text.slice(0, i) + insert + text.slice(i), caret: i + insert.length };
}

/**
 * Edits a task's argument list. Each argument is one argv element, shown as a pill in which `${PARAMETERS}` appear
 * as chips; click a pill to edit its text. The palette offers the parameter names: a click inserts `${NAME}` at the
 * caret of the argument being written, or adds it as an argument of its own.
 */
export function ArgumentEditor(props: ArgumentEditorProps) {
  const offered = props.offered ?? STANDARD_PARAMETERS;
  const known = new Set(props.known ?? offered);
  const args = props.value;
  const [draft, setDraft] = useState('');
  const [editing, setEditing] = useState<{ index: number; text: string } | null>(null);
  const draftRef = useRef<HTMLInputElement>(null);
  const editRef = useRef<HTMLInputElement>(null);

  const commitEdit = () => {
    if (!editing) return;
    const next = [...args];
    if (editing.text === '') next.splice(editing.index, 1);
    else next[editing.index] = editing.text;
    setEditing(null);
    props.onChange(next);
  };

  const addDraft = () => {
    if (draft === '') return;
    props.onChange([...args, draft]);
    setDraft('');
  };

  const move = (i: number, by: -1 | 1) => {
    const j = i + by;
    if (j < 0 || j >= args.length) return;
    const next = [...args];
    [next[i], next[j]] = [next[j], next[i]];
    props.onChange(next);
  };

  const remove = (i: number) => props.onChange(args.filter((_, k) => k !== i));

  const insertParameter = (name: string) => {
    const ref = `\${${name}}`;
    if (editing) {
      const input = editRef.current;
      const r = insertAt(editing.text, input?.selectionStart ?? null, ref);
      setEditing({ ...editing, text: r.text });
      requestAnimationFrame(() => input?.setSelectionRange(r.caret, r.caret));
      return;
    }
    if (draft !== '') {
      const input = draftRef.current;
      const r = insertAt(draft, input?.selectionStart ?? null, ref);
      setDraft(r.text);
      requestAnimationFrame(() => {
        input?.focus();
        input?.setSelectionRange(r.caret, r.caret);
      });
      return;
    }
    props.onChange([...args, ref]);
  };

  const onDraftKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      addDraft();
    } else if (e.key === 'Backspace' && draft === '' && args.length > 0) {
      setEditing({ index: args.length - 1, text: args[args.length - 1] });
    }
  };

  const onEditKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      commitEdit();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      setEditing(null);
    }
  };

  const unknown = [...new Set(args.flatMap((a) => segmentArgument(a)))]
    .filter((s): s is { kind: 'parameter'; name: string } => s.kind === 'parameter' && !known.has(s.name))
    .map((s) => s.name);

  return (
    <div className="arg-editor" role="group" aria-label="Arguments" id={props.id}>
      <ol className="arg-list">
        {args.map((a, i) => (
          <li key={`${i}:${a}`} className="arg" data-argument={a}>
            {editing?.index === i ? (
              <input
                ref={editRef}
                className="arg-input"
                aria-label={`Argument ${i + 1}`}
                value={editing.text}
                autoFocus
                disabled={props.disabled}
                onChange={(e) => setEditing({ index: i, text: e.target.value })}
                onKeyDown={onEditKey}
                onBlur={(e) => {
                  // Clicking a palette chip keeps the argument open: the chip inserts into it.
                  if ((e.relatedTarget as HTMLElement | null)?.dataset?.palette) return;
                  commitEdit();
                }}
              />
            ) : (
              <button
                type="button"
                className="arg-view"
                aria-label={`Edit argument ${i + 1}: ${a}`}
                disabled={props.disabled}
                onClick={() => setEditing({ index: i, text: a })}
              >
                {segmentArgument(a).map((s, k) =>
                  s.kind === 'text' ? (
                    <span key={k} className="arg-text">
                      {s.text}
                    </span>
                  ) : (
                    <span
                      key={k}
                      className={`param-chip${known.has(s.name) ? '' : ' param-unknown'}`}
                      data-parameter={s.name}
                      title={
                        known.has(s.name)
                          ? `Parameter ${s.name}`
                          : `${s.name} is not a standard parameter: define it as a project parameter`
                      }
                    >
                      {s.name}
                    </span>
                  ),
                )}
              </button>
            )}
            <span className="arg-tools">
              <button
                type="button"
                className="icon-btn"
                aria-label={`Move argument ${i + 1} left`}
                disabled={props.disabled || i === 0}
                onClick={() => move(i, -1)}
              >
                ‹
              </button>
              <button
                type="button"
                className="icon-btn"
                aria-label={`Move argument ${i + 1} right`}
                disabled={props.disabled || i === args.length - 1}
                onClick={() => move(i, 1)}
              >
                ›
              </button>
              <button
                type="button"
                className="icon-btn"
                aria-label={`Remove argument ${i + 1}`}
                disabled={props.disabled}
                onClick={() => remove(i)}
              >
                ×
              </button>
            </span>
          </li>
        ))}
        <li className="arg arg-new">
          <input
            ref={draftRef}
            className="arg-input"
            aria-label="New argument"
            placeholder={args.length === 0 ? 'Add an argument, Enter to add' : 'Add…'}
            value={draft}
            disabled={props.disabled}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onDraftKey}
            onBlur={(e) => {
              if ((e.relatedTarget as HTMLElement | null)?.dataset?.palette) return;
              addDraft();
            }}
          />
        </li>
      </ol>
      <div className="param-palette" role="toolbar" aria-label="Insert a parameter">
        {offered.map((name) => (
          <button
            key={name}
            type="button"
            className="param-chip param-offer"
            aria-label={`Insert parameter ${name}`}
            title={`Insert \${${name}}`}
            data-palette="1"
            disabled={props.disabled}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => insertParameter(name)}
          >
            {name}
          </button>
        ))}
      </div>
      {unknown.length > 0 && (
        <p className="field-hint warn" data-unknown-parameters={unknown.join(',')}>
          Not standard: {unknown.map((n) => `\${${n}}`).join(', ')}. Each must be defined as a parameter of every
          project that uses this task.
        </p>
      )}
    </div>
  );
}
