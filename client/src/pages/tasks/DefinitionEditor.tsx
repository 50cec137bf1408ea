import { useState, type FormEvent } from 'react';
import { useLazyQuery, useMutation } from '@apollo/client/react';
import {
  CreateTaskDefinitionDocument,
  ScriptContentsDocument,
  TasksDocument,
  UpdateTaskDefinitionDocument,
  type DefinitionFieldsFragment,
  type RepositoryFieldsFragment,
  type TaskDefinitionInput,
} from '../../api/generated';
import { ArgumentEditor } from '../../components/ArgumentEditor';
import {
  ActionError,
  Field,
  FieldMessage,
  FormErrors,
  errorMessage,
  type FieldErrorList,
} from '../../components/forms';
import { Drawer } from '../../components/ui';
import { ScriptBadge } from './ScriptBadge';

type NumberKey =
  | 'expectedExitCode'
  | 'localWorkUnits'
  | 'clusterWorkUnits'
  | 'timeoutSeconds'
  | 'maxRetries'
  | 'retryBackoffSeconds'
  | 'cpus'
  | 'memoryMb'
  | 'timeLimitMinutes';

const NUMBER_FIELDS: ReadonlyArray<{
  key: NumberKey;
  label: string;
  field: string;
  integer: boolean;
  optional: boolean;
  hint?: string;
}> = [
  { key: 'expectedExitCode', label: 'Expected exit code', field: 'expectedExitCode', integer: true, optional: false },
  {
    key: 'localWorkUnits',
    label: 'Local work units',
    field: 'localWorkUnits',
    integer: false,
    optional: false,
    hint: 'Capacity one task takes on a worker.',
  },
  { key: 'clusterWorkUnits', label: 'Cluster work units', field: 'clusterWorkUnits', integer: false, optional: false },
  {
    key: 'timeoutSeconds',
    label: 'Timeout (s)',
    field: 'timeoutSeconds',
    integer: true,
    optional: true,
    hint: 'Empty: no limit.',
  },
  { key: 'maxRetries', label: 'Retries', field: 'maxRetries', integer: true, optional: false },
  {
    key: 'retryBackoffSeconds',
    label: 'Retry backoff (s)',
    field: 'retryBackoffSeconds',
    integer: false,
    optional: false,
  },
  { key: 'cpus', label: 'CPUs', field: 'clusterOptions.cpus', integer: true, optional: true },
  { key: 'memoryMb', label: 'Memory (MB)', field: 'clusterOptions.memoryMb', integer: true, optional: true },
  {
    key: 'timeLimitMinutes',
    label: 'Time limit (min)',
    field: 'clusterOptions.timeLimitMinutes',
    integer: true,
    optional: true,
  },
];

function str(v: number | null | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

/** The script of a definition: whether it exists and is executable, and its text on demand. */
function ScriptCheck(props: { definition: DefinitionFieldsFragment }) {
  const d = props.definition;
  const [load, { data, loading, error }] = useLazyQuery(ScriptContentsDocument, { fetchPolicy: 'network-only' });
  const status = data?.taskDefinition?.scriptStatus ?? d.scriptStatus;
  return (
    <div
      className="script-check"
      data-testid="script-check"
      data-exists={status.exists}
      data-executable={status.executable}
    >
      <div className="row">
        <strong>Script</strong> <code className="ellipsis">{data?.taskDefinition?.scriptPath ?? d.scriptPath}</code>
        <ScriptBadge status={status} />
      </div>
      <ul className="checks small">
        <li className={status.exists ? 'ok' : 'bad'}>{status.exists ? 'exists' : 'does not exist'}</li>
        <li className={status.executable ? 'ok' : 'bad'}>
          {status.executable ? 'is executable' : 'is not executable'}
        </li>
      </ul>
      {status.message && <p className="warn-text small">{status.message}</p>}
      <button
        type="button"
        className="btn btn-small"
        disabled={loading}
        onClick={() => void load({ variables: { id: d.id } })}
      >
        {data ? 'Check again' : 'Check and view script'}
      </button>
      <ActionError error={error ? errorMessage(error) : null} />
      {data?.taskDefinition?.scriptStatus.contents != null && (
        <pre className="script-view" aria-label="Script contents">
          {data.taskDefinition.scriptStatus.contents}
        </pre>
      )}
    </div>
  );
}

/** Creates or edits a task definition; the argument list is edited with parameter chips. */
export function DefinitionEditor(props: {
  definition: DefinitionFieldsFragment | null;
  repositories: readonly RepositoryFieldsFragment[];
  onClose(): void;
}) {
  const d = props.definition;
  const [name, setName] = useState(d?.name ?? '');
  const [description, setDescription] = useState(d?.description ?? '');
  const [repositoryId, setRepositoryId] = useState(d?.repository?.id ?? props.repositories[0]?.id ?? '');
  const [script, setScript] = useState(d?.script ?? '');
  const [args, setArgs] = useState<string[]>(d ? [...d.args] : []);
  const [partition, setPartition] = useState(d?.clusterOptions.partition ?? '');
  const [extraArgs, setExtraArgs] = useState(d?.clusterOptions.extraArgs.join(' ') ?? '');
  const [numbers, setNumbers] = useState<Record<NumberKey, string>>({
    expectedExitCode: str(d?.expectedExitCode ?? 0),
    localWorkUnits: str(d?.localWorkUnits ?? 1),
    clusterWorkUnits: str(d?.clusterWorkUnits ?? 1),
    timeoutSeconds: str(d?.timeoutSeconds),
    maxRetries: str(d?.maxRetries ?? 0),
    retryBackoffSeconds: str(d?.retryBackoffSeconds ?? 0),
    cpus: str(d?.clusterOptions.cpus),
    memoryMb: str(d?.clusterOptions.memoryMb),
    timeLimitMinutes: str(d?.clusterOptions.timeLimitMinutes),
  });
  const [errors, setErrors] = useState<FieldErrorList | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [create, c] = useMutation(CreateTaskDefinitionDocument, { refetchQueries: [TasksDocument] });
  const [update, u] = useMutation(UpdateTaskDefinitionDocument);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    const local: Array<{ field: string; message: string }> = [];
    const num: Partial<Record<NumberKey, number | null>> = {};
    for (const f of NUMBER_FIELDS) {
      const v = numbers[f.key].trim();
      if (v === '') {
        if (f.optional) num[f.key] = null;
        else local.push({ field: f.field, message: `${f.label} is required` });
        continue;
      }
      const n = Number(v);
      if (!Number.isFinite(n) || (f.integer && !Number.isInteger(n)))
        local.push({ field: f.field, message: `${f.label} must be ${f.integer ? 'a whole number' : 'a number'}` });
      else num[f.key] = n;
    }
    if (local.length > 0) {
      setErrors(local);
      return;
    }
    const input: TaskDefinitionInput = {
      name: name.trim(),
      description,
      repositoryId: repositoryId || null,
      script: script.trim(),
      args,
      expectedExitCode: num.expectedExitCode,
      localWorkUnits: num.localWorkUnits,
      clusterWorkUnits: num.clusterWorkUnits,
      timeoutSeconds: num.timeoutSeconds,
      maxRetries: num.maxRetries,
      retryBackoffSeconds: num.retryBackoffSeconds,
      clusterOptions: {
        partition: partition.trim() || null,
        cpus: num.cpus,
        memoryMb: num.memoryMb,
        timeLimitMinutes: num.timeLimitMinutes,
        extraArgs: extraArgs.split(/\s+/).filter(Boolean),
      },
    };
    try {
      const r = d
        ? (await update({ variables: { id: d.id, input } })).data?.updateTaskDefinition
        : (await create({ variables: { input } })).data?.createTaskDefinition;
      setErrors(r?.errors ?? null);
      if (r?.definition) props.onClose();
    } catch (err) {
      setFailure(errorMessage(err));
    }
  };

  const num = (key: NumberKey) => {
    const f = NUMBER_FIELDS.find((x) => x.key === key)!;
    return (
      <Field key={key} label={f.label} field={f.field} errors={errors} hint={f.hint}>
        <input
          name={key}
          inputMode="decimal"
          value={numbers[key]}
          onChange={(e) => setNumbers({ ...numbers, [key]: e.target.value })}
        />
      </Field>
    );
  };

  return (
    <Drawer
      title={d ? `Task definition: ${d.name}` : 'New task definition'}
      onClose={props.onClose}
      testId="definition-editor"
    >
      <form onSubmit={submit} noValidate aria-label="Task definition" className="definition-form">
        <div className="fields">
          <Field label="Name" field="name" errors={errors}>
            <input name="definitionName" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
          </Field>
          <Field label="Repository" field="repositoryId" errors={errors}>
            <select name="repository" value={repositoryId} onChange={(e) => setRepositoryId(e.target.value)}>
              <option value="">None (absolute script path)</option>
              {props.repositories.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name} — {r.location}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Script"
            field="script"
            errors={errors}
            hint={repositoryId ? 'Relative to the repository folder.' : 'An absolute path.'}
            wide
          >
            <input
              name="script"
              value={script}
              onChange={(e) => setScript(e.target.value)}
              placeholder="process-tile.sh"
            />
          </Field>
          <Field label="Description" field="description" errors={errors} wide>
            <input name="definitionDescription" value={description} onChange={(e) => setDescription(e.target.value)} />
          </Field>
        </div>
        {d && <ScriptCheck definition={d} />}
        <div className="field field-wide">
          <span className="field-label">Arguments</span>
          <span className="field-hint">
            The script gets <code>src_path dst_path relative_path tile_name</code>, then these, one argv element each
            (no shell).
          </span>
          <ArgumentEditor value={args} onChange={setArgs} />
          <FieldMessage errors={errors} field="args" />
        </div>
        <h3 className="subhead">Execution</h3>
        <div className="fields fields-3">
          {(
            [
              'expectedExitCode',
              'localWorkUnits',
              'clusterWorkUnits',
              'timeoutSeconds',
              'maxRetries',
              'retryBackoffSeconds',
            ] as const
          ).map(num)}
        </div>
        <h3 className="subhead">Cluster (SLURM)</h3>
        <div className="fields fields-3">
          <Field label="Partition" field="clusterOptions.partition" errors={errors}>
            <input
              name="partition"
              value={partition}
              onChange={(e) => setPartition(e.target.value)}
              placeholder="default"
            />
          </Field>
          {(['cpus', 'memoryMb', 'timeLimitMinutes'] as const).map(num)}
          <Field label="Extra sbatch arguments" field="clusterOptions.extraArgs" errors={errors} wide>
            <input
              name="extraArgs"
              value={extraArgs}
              onChange={(e) => setExtraArgs(e.target.value)}
              placeholder="--qos=normal"
            />
          </Field>
        </div>
        <FormErrors
          errors={errors}
          shown={[
            'name',
            'repositoryId',
            'script',
            'description',
            'args',
            'clusterOptions',
            ...NUMBER_FIELDS.map((f) => f.field),
          ]}
        />
        <ActionError error={failure} />
        <div className="form-actions">
          <button type="button" className="btn btn-plain" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={c.loading || u.loading}>
            {d ? 'Save definition' : 'Create definition'}
          </button>
        </div>
      </form>
    </Drawer>
  );
}
