import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { INPUT_KINDS, InputKind } from '@tileflow/shared';
import { inputKind as inputKindOf, inputState as inputStateOf, toGql } from '../../api/enums';
import {
  ArchiveProjectDocument,
  CreateProjectDocument,
  DuplicateProjectDocument,
  ProjectDocument,
  ProjectsDocument,
  UpdateProjectDocument,
  type ProjectFieldsFragment,
  type RegionInput,
} from '../../api/generated';
import { formatTime } from '../../components/format';
import {
  ActionButton,
  ActionError,
  Field,
  FieldMessage,
  FormErrors,
  errorMessage,
  type FieldErrorList,
} from '../../components/forms';
import { InputStateBadge, ProjectHeader } from '../../components/ProjectHeader';
import { Drawer, Loading, PageHeader, Panel, QueryError } from '../../components/ui';
import { Link, navigate } from '../../router';
import {
  INPUT_KIND_LABELS,
  INPUT_OPTION_SPECS,
  formToOptions,
  formatPlanes,
  optionsToForm,
  parsePlanes,
} from './input-options';

const REGION_KEYS = ['minX', 'maxX', 'minY', 'maxY', 'minZ', 'maxZ'] as const;
type RegionKey = (typeof REGION_KEYS)[number];

interface FormState {
  name: string;
  description: string;
  rootPath: string;
  logRootPath: string;
  inputKind: InputKind;
  options: Record<string, string>;
  region: Record<RegionKey, string>;
  skipped: string;
  parameters: Array<{ key: string; value: string }>;
}

const blank: FormState = {
  name: '',
  description: '',
  rootPath: '',
  logRootPath: '',
  inputKind: InputKind.PipelineJson,
  options: {},
  region: { minX: '', maxX: '', minY: '', maxY: '', minZ: '', maxZ: '' },
  skipped: '',
  parameters: [],
};

function fromProject(p: ProjectFieldsFragment): FormState {
  const kind = inputKindOf(p.inputKind);
  const region = { ...blank.region };
  for (const k of REGION_KEYS) region[k] = p.regionOfInterest[k] === null ? '' : String(p.regionOfInterest[k]);
  return {
    name: p.name,
    description: p.description,
    rootPath: p.rootPath,
    logRootPath: p.logRootPath ?? '',
    inputKind: kind,
    options: optionsToForm(kind, p.inputOptions),
    region,
    skipped: formatPlanes(p.skippedZPlanes),
    parameters: p.parameters.map((x) => ({ key: x.key, value: x.value })),
  };
}

/** The form as a mutation input, or the field errors found before sending. */
function toInput(f: FormState) {
  const errors: Array<{ field: string; message: string }> = [];
  const region: RegionInput = {};
  for (const k of REGION_KEYS) {
    const v = f.region[k].trim();
    if (v === '') region[k] = null;
    else if (/^-?\d+$/.test(v)) region[k] = Number(v);
    else
      errors.push({ field: `regionOfInterest.${k}`, message: `${k} must be a whole number (or empty for no limit)` });
  }
  const planes = parsePlanes(f.skipped, 'skippedZPlanes');
  errors.push(...planes.errors);
  const input = {
    name: f.name.trim(),
    description: f.description,
    rootPath: f.rootPath.trim(),
    logRootPath: f.logRootPath.trim() || null,
    inputKind: toGql(f.inputKind),
    inputOptions: formToOptions(f.inputKind, f.options),
    regionOfInterest: region,
    skippedZPlanes: planes.planes,
    parameters: f.parameters
      .filter((p) => p.key.trim() !== '' || p.value !== '')
      .map((p) => ({ key: p.key.trim(), value: p.value })),
  };
  return { input, errors };
}

const SHOWN_FIELDS = [
  'name',
  'description',
  'rootPath',
  'logRootPath',
  'inputKind',
  'inputOptions',
  'regionOfInterest',
  'skippedZPlanes',
  'parameters',
];

/** Create a project, or edit one (its settings tab). */
export function ProjectEditPage(props: { projectId: string | null }) {
  const editing = props.projectId !== null;
  const query = useQuery(ProjectDocument, { variables: { id: props.projectId ?? '' }, skip: !editing });
  const project = query.data?.project ?? null;
  const [form, setForm] = useState<FormState>(blank);
  const [loadedFor, setLoadedFor] = useState<string | null>(null);
  const [errors, setErrors] = useState<FieldErrorList | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [duplicating, setDuplicating] = useState(false);
  const [create, createState] = useMutation(CreateProjectDocument, { refetchQueries: [ProjectsDocument] });
  const [update, updateState] = useMutation(UpdateProjectDocument);
  const [archive] = useMutation(ArchiveProjectDocument, { refetchQueries: [ProjectsDocument] });

  // Fill the form once per project (later pushes must not overwrite what is being typed).
  useEffect(() => {
    if (project && loadedFor !== project.id) {
      setForm(fromProject(project));
      setLoadedFor(project.id);
    }
  }, [project, loadedFor]);

  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setSaved(null);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    setSaved(null);
    const { input, errors: local } = toInput(form);
    if (local.length > 0) {
      setErrors(local);
      return;
    }
    try {
      if (!editing) {
        const r = (await create({ variables: { input } })).data?.createProject;
        setErrors(r?.errors ?? null);
        if (r?.project) navigate(`/projects/${r.project.id}/pipeline`);
      } else {
        const r = (await update({ variables: { id: props.projectId!, input } })).data?.updateProject;
        setErrors(r?.errors ?? null);
        if (r?.project) {
          setForm(fromProject(r.project));
          setSaved(`Saved at ${new Date().toLocaleTimeString()}`);
        }
      }
    } catch (err) {
      setFailure(errorMessage(err));
    }
  };

  if (editing && query.loading && !project) return <Loading what="the project" />;
  if (editing && query.error) return <QueryError error={query.error} retry={() => void query.refetch()} />;
  if (editing && !project) return <p className="page">No such project.</p>;

  const specs = INPUT_OPTION_SPECS[form.inputKind];
  const busy = createState.loading || updateState.loading;

  return (
    <div className="page">
      {editing ? (
        <ProjectHeader projectId={props.projectId!} tab="settings" />
      ) : (
        <PageHeader title="New project" subtitle="An acquisition: where its tiles appear and how to read them." />
      )}
      <form
        className="form-grid"
        onSubmit={submit}
        aria-label={editing ? 'Project settings' : 'New project'}
        noValidate
      >
        <Panel title="Project">
          <div className="fields">
            <Field label="Name" field="name" errors={errors}>
              <input name="name" value={form.name} onChange={(e) => set('name', e.target.value)} required />
            </Field>
            <Field label="Description" field="description" errors={errors} wide>
              <textarea
                name="description"
                rows={2}
                value={form.description}
                onChange={(e) => set('description', e.target.value)}
              />
            </Field>
            <Field
              label="Root path"
              field="rootPath"
              errors={errors}
              hint="The acquisition folder, as the coordinator sees it."
              wide
            >
              <input
                name="rootPath"
                value={form.rootPath}
                onChange={(e) => set('rootPath', e.target.value)}
                placeholder="/data/acquisitions/2024-05-01"
                required
              />
            </Field>
            <Field
              label="Log root"
              field="logRootPath"
              errors={errors}
              hint="Where task logs go; default: under the root path."
              wide
            >
              <input name="logRootPath" value={form.logRootPath} onChange={(e) => set('logRootPath', e.target.value)} />
            </Field>
          </div>
        </Panel>

        <Panel
          title="Input source"
          actions={
            project ? (
              <InputStateBadge state={inputStateOf(project.inputState)} message={project.inputMessage} />
            ) : undefined
          }
        >
          {project && (
            <div className={`input-status input-${inputStateOf(project.inputState)}`} data-testid="input-status">
              <span>
                {project.tileCount.toLocaleString()} items recorded · checked {formatTime(project.inputCheckedAt)}
              </span>
              {project.inputMessage && <pre className="input-error">{project.inputMessage}</pre>}
            </div>
          )}
          <div className="fields">
            <Field label="Kind" field="inputKind" errors={errors}>
              <select
                name="inputKind"
                value={form.inputKind}
                onChange={(e) => {
                  const kind = e.target.value as InputKind;
                  setForm((f) => ({ ...f, inputKind: kind, options: {} }));
                }}
              >
                {INPUT_KINDS.map((k) => (
                  <option key={k} value={k}>
                    {INPUT_KIND_LABELS[k]}
                  </option>
                ))}
              </select>
            </Field>
            {specs.map((spec) => (
              <Field
                key={`${form.inputKind}:${spec.name}`}
                label={spec.label + (spec.required ? ' *' : '')}
                field={`inputOptions.${spec.name}`}
                errors={errors}
                hint={spec.hint}
              >
                {spec.type === 'select' ? (
                  <select
                    name={`option-${spec.name}`}
                    value={form.options[spec.name] ?? ''}
                    onChange={(e) => set('options', { ...form.options, [spec.name]: e.target.value })}
                  >
                    {spec.choices!.map((c) => (
                      <option key={c} value={c}>
                        {c === '' ? 'Default' : c}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input
                    name={`option-${spec.name}`}
                    inputMode={spec.type === 'number' ? 'decimal' : undefined}
                    placeholder={spec.placeholder}
                    value={form.options[spec.name] ?? ''}
                    onChange={(e) => set('options', { ...form.options, [spec.name]: e.target.value })}
                  />
                )}
              </Field>
            ))}
          </div>
          <FieldMessage errors={errors?.filter((e) => e.field === 'inputOptions')} field="inputOptions" />
          {project && (
            <p className="muted small">
              Sample extents: x {project.extents.minX ?? '?'}–{project.extents.maxX ?? '?'}, y{' '}
              {project.extents.minY ?? '?'}–{project.extents.maxY ?? '?'}, z {project.extents.minZ ?? '?'}–
              {project.extents.maxZ ?? '?'}
            </p>
          )}
        </Panel>

        <Panel title="Region of interest and planes">
          <p className="muted small">Only tiles inside the region are processed. Empty means unbounded.</p>
          <div className="region-grid">
            {REGION_KEYS.map((k) => (
              <Field key={k} label={k} field={`regionOfInterest.${k}`} errors={errors}>
                <input
                  name={`roi-${k}`}
                  inputMode="numeric"
                  value={form.region[k]}
                  onChange={(e) => set('region', { ...form.region, [k]: e.target.value })}
                />
              </Field>
            ))}
          </div>
          <div className="fields">
            <Field
              label="Skipped z-planes"
              field="skippedZPlanes"
              errors={errors}
              hint="Comma-separated, ranges allowed: 3, 7, 10-12"
              wide
            >
              <input name="skippedZPlanes" value={form.skipped} onChange={(e) => set('skipped', e.target.value)} />
            </Field>
          </div>
        </Panel>

        <Panel
          title="Parameters"
          actions={
            <span className="muted small">
              Usable in task arguments as ${'{'}KEY{'}'}; they override the standard ones.
            </span>
          }
        >
          <table className="table params-table">
            <thead>
              <tr>
                <th>Key</th>
                <th>Value</th>
                <th aria-label="Remove" />
              </tr>
            </thead>
            <tbody>
              {form.parameters.map((p, i) => (
                <tr key={i}>
                  <td>
                    <input
                      aria-label={`Parameter ${i + 1} key`}
                      value={p.key}
                      onChange={(e) =>
                        set(
                          'parameters',
                          form.parameters.map((q, j) => (j === i ? { ...q, key: e.target.value } : q)),
                        )
                      }
                    />
                    <FieldMessage errors={errors} field={`parameters.${i}`} />
                  </td>
                  <td>
                    <input
                      aria-label={`Parameter ${i + 1} value`}
                      value={p.value}
                      onChange={(e) =>
                        set(
                          'parameters',
                          form.parameters.map((q, j) => (j === i ? { ...q, value: e.target.value } : q)),
                        )
                      }
                    />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="icon-btn"
                      aria-label={`Remove parameter ${i + 1}`}
                      onClick={() =>
                        set(
                          'parameters',
                          form.parameters.filter((_, j) => j !== i),
                        )
                      }
                    >
                      ×
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => set('parameters', [...form.parameters, { key: '', value: '' }])}
          >
            Add parameter
          </button>
        </Panel>

        <div className="form-actions">
          <FormErrors errors={errors} shown={SHOWN_FIELDS} />
          <ActionError error={failure} />
          {saved && (
            <span className="saved" role="status">
              {saved}
            </span>
          )}
          {!editing && (
            <Link to="/projects" className="btn btn-plain">
              Cancel
            </Link>
          )}
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {editing ? 'Save changes' : 'Create project'}
          </button>
        </div>
      </form>

      {editing && project && (
        <Panel title="Other actions" className="danger-zone">
          <div className="row">
            <button type="button" className="btn" onClick={() => setDuplicating(true)}>
              Duplicate…
            </button>
            {!project.archived && (
              <ActionButton
                variant="danger"
                onRun={async () => {
                  if (!window.confirm(`Archive "${project.name}"? It stops processing and leaves the project list.`))
                    return;
                  const r = (await archive({ variables: { id: project.id } })).data?.archiveProject;
                  if (r?.errors.length) return r.errors;
                  navigate('/projects');
                }}
              >
                Archive
              </ActionButton>
            )}
          </div>
        </Panel>
      )}
      {duplicating && project && <DuplicateDrawer project={project} onClose={() => setDuplicating(false)} />}
    </div>
  );
}

export function DuplicateDrawer(props: { project: { id: string; name: string }; onClose(): void }) {
  const [name, setName] = useState(`${props.project.name} (copy)`);
  const [errors, setErrors] = useState<FieldErrorList | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [duplicate, { loading }] = useMutation(DuplicateProjectDocument, { refetchQueries: [ProjectsDocument] });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = (await duplicate({ variables: { id: props.project.id, name } })).data?.duplicateProject;
      setErrors(r?.errors ?? null);
      if (r?.project) {
        props.onClose();
        navigate(`/projects/${r.project.id}/settings`);
      }
    } catch (err) {
      setFailure(errorMessage(err));
    }
  };
  return (
    <Drawer title={`Duplicate ${props.project.name}`} onClose={props.onClose}>
      <form onSubmit={submit}>
        <p className="muted small">Copies the settings and the stages, not the tiles.</p>
        <Field label="New name" field="name" errors={errors}>
          <input name="duplicateName" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
        </Field>
        <FormErrors errors={errors} shown={['name']} />
        <ActionError error={failure} />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={loading}>
            Duplicate
          </button>
        </div>
      </form>
    </Drawer>
  );
}
