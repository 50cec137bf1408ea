import { useCallback, useRef, useState, type ReactNode } from 'react';
import { CombinedGraphQLErrors } from '@apollo/client/errors';

/** A mutation's field errors (`field` is the input field, dotted for nesting: `inputOptions.pattern`). */
export type FieldErrorList = ReadonlyArray<{ field: string; message: string }>;

/** Errors of one field and of the fields nested under it. */
export function errorsFor(errors: FieldErrorList | null | undefined, field: string): string[] {
  if (!errors) return [];
  return errors.filter((e) => e.field === field || e.field.startsWith(`${field}.`)).map((e) => e.message);
}

/** Errors that none of the shown fields display (shown next to the submit button instead). */
export function otherErrors(errors: FieldErrorList | null | undefined, shown: readonly string[]): FieldErrorList {
  if (!errors) return [];
  return errors.filter((e) => !shown.some((f) => e.field === f || e.field.startsWith(`${f}.`)));
}

/** A readable message for anything a mutation or query can throw. */
export function errorMessage(e: unknown): string {
  if (CombinedGraphQLErrors.is(e)) return e.errors.map((x) => x.message).join('; ');
  if (e instanceof Error) return e.message;
  return String(e);
}

export function FieldMessage(props: { errors: FieldErrorList | null | undefined; field: string }) {
  const messages = errorsFor(props.errors, props.field);
  if (messages.length === 0) return null;
  return (
    <span className="field-error" role="alert" data-field={props.field}>
      {messages.join('; ')}
    </span>
  );
}

/** A labelled form field with its hint and its errors. */
export function Field(props: {
  label: string;
  field: string;
  errors?: FieldErrorList | null;
  hint?: ReactNode;
  children: ReactNode;
  wide?: boolean;
}) {
  const invalid = errorsFor(props.errors, props.field).length > 0;
  // The <label> holds the name and the control only, so that hints and errors stay out of the accessible name.
  return (
    <div className={`field${invalid ? ' field-invalid' : ''}${props.wide ? ' field-wide' : ''}`}>
      <label className="field-control">
        <span className="field-label">{props.label}</span>
        {props.children}
      </label>
      {props.hint && <span className="field-hint">{props.hint}</span>}
      <FieldMessage errors={props.errors} field={props.field} />
    </div>
  );
}

/** Errors the form's fields do not show, listed by field name. */
export function FormErrors(props: { errors: FieldErrorList | null | undefined; shown: readonly string[] }) {
  const rest = otherErrors(props.errors, props.shown);
  if (rest.length === 0) return null;
  return (
    <ul className="form-errors" role="alert">
      {rest.map((e, i) => (
        <li key={i} data-field={e.field}>
          {e.field ? <code>{e.field}</code> : null} {e.message}
        </li>
      ))}
    </ul>
  );
}

/**
 * Runs one action at a time (a mutation), tracking whether it runs and the error it ended with: a thrown error or
 * the field errors it returned. Shown next to the button with <ActionError>.
 */
export function useAction(): {
  run: (f: () => Promise<FieldErrorList | void | null | undefined>) => Promise<boolean>;
  pending: boolean;
  error: string | null;
  clear: () => void;
} {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const busy = useRef(false);
  const run = useCallback(async (f: () => Promise<FieldErrorList | void | null | undefined>) => {
    if (busy.current) return false;
    busy.current = true;
    setPending(true);
    setError(null);
    try {
      const errors = await f();
      if (errors && errors.length > 0) {
        setError(errors.map((e) => e.message).join('; '));
        return false;
      }
      return true;
    } catch (e) {
      setError(errorMessage(e));
      return false;
    } finally {
      busy.current = false;
      setPending(false);
    }
  }, []);
  return { run, pending, error, clear: useCallback(() => setError(null), []) };
}

export function ActionError(props: { error: string | null | undefined }) {
  if (!props.error) return null;
  return (
    <span className="action-error" role="alert">
      {props.error}
    </span>
  );
}

/** A button that runs an action, disabled while it runs, with the action's error beside it. */
export function ActionButton(props: {
  onRun: () => Promise<FieldErrorList | void | null | undefined>;
  children: ReactNode;
  variant?: 'primary' | 'danger' | 'plain';
  disabled?: boolean;
  title?: string;
  small?: boolean;
  testId?: string;
}) {
  const action = useAction();
  const cls = ['btn', props.variant ? `btn-${props.variant}` : '', props.small ? 'btn-small' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <span className="action">
      <button
        type="button"
        className={cls}
        disabled={props.disabled || action.pending}
        title={props.title}
        data-testid={props.testId}
        onClick={() => void action.run(props.onRun)}
      >
        {props.children}
      </button>
      <ActionError error={action.error} />
    </span>
  );
}
