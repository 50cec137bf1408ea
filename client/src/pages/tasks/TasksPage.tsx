import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import {
  ArchiveTaskDefinitionDocument,
  ArchiveTaskRepositoryDocument,
  CreateTaskRepositoryDocument,
  DuplicateTaskDefinitionDocument,
  TasksDocument,
  UpdateTaskRepositoryDocument,
  type DefinitionFieldsFragment,
  type RepositoryFieldsFragment,
} from '../../api/generated';
import {
  ActionButton,
  ActionError,
  Field,
  FormErrors,
  errorMessage,
  type FieldErrorList,
} from '../../components/forms';
import { segmentArgument } from '../../components/parameters';
import { Drawer, Empty, Loading, PageHeader, Panel, QueryError } from '../../components/ui';
import { DefinitionEditor } from './DefinitionEditor';
import { ScriptBadge } from './ScriptBadge';

/** An argument list as a compact line, parameters as chips. */
function ArgsPreview(props: { args: readonly string[] }) {
  if (props.args.length === 0) return <span className="muted">—</span>;
  return (
    <span className="args-preview">
      {props.args.map((a, i) => (
        <span key={i} className="arg-mini">
          {segmentArgument(a).map((s, k) =>
            s.kind === 'text' ? (
              <span key={k}>{s.text}</span>
            ) : (
              <span key={k} className="param-chip">
                {s.name}
              </span>
            ),
          )}
        </span>
      ))}
    </span>
  );
}

function RepositoryDrawer(props: { repository: RepositoryFieldsFragment | null; onClose(): void }) {
  const r0 = props.repository;
  const [name, setName] = useState(r0?.name ?? '');
  const [location, setLocation] = useState(r0?.location ?? '');
  const [description, setDescription] = useState(r0?.description ?? '');
  const [errors, setErrors] = useState<FieldErrorList | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [create, c] = useMutation(CreateTaskRepositoryDocument, { refetchQueries: [TasksDocument] });
  const [update, u] = useMutation(UpdateTaskRepositoryDocument);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    const input = { name: name.trim(), location: location.trim(), description };
    try {
      const r = r0
        ? (await update({ variables: { id: r0.id, input } })).data?.updateTaskRepository
        : (await create({ variables: { input } })).data?.createTaskRepository;
      setErrors(r?.errors ?? null);
      if (r?.repository) props.onClose();
    } catch (err) {
      setFailure(errorMessage(err));
    }
  };
  return (
    <Drawer title={r0 ? `Edit ${r0.name}` : 'New task repository'} onClose={props.onClose}>
      <form onSubmit={submit} noValidate aria-label="Task repository">
        <Field label="Name" field="name" errors={errors}>
          <input name="repoName" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
        </Field>
        <Field label="Location" field="location" errors={errors} hint="The folder holding the scripts (absolute).">
          <input
            name="repoLocation"
            value={location}
            onChange={(e) => setLocation(e.target.value)}
            placeholder="/opt/pipeline/tasks"
          />
        </Field>
        <Field label="Description" field="description" errors={errors}>
          <input name="repoDescription" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <FormErrors errors={errors} shown={['name', 'location', 'description']} />
        <ActionError error={failure} />
        <div className="form-actions">
          <button type="button" className="btn btn-plain" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={c.loading || u.loading}>
            {r0 ? 'Save' : 'Create repository'}
          </button>
        </div>
      </form>
    </Drawer>
  );
}

type Editing =
  | { kind: 'repository'; repository: RepositoryFieldsFragment | null }
  | { kind: 'definition'; definition: DefinitionFieldsFragment | null }
  | null;

/** Task repositories (folders of scripts) and task definitions (a script, its arguments and its costs). */
export function TasksPage() {
  const { data, loading, error, refetch } = useQuery(TasksDocument);
  const [editing, setEditing] = useState<Editing>(null);
  const [archiveRepository] = useMutation(ArchiveTaskRepositoryDocument, { refetchQueries: [TasksDocument] });
  const [archiveDefinition] = useMutation(ArchiveTaskDefinitionDocument, { refetchQueries: [TasksDocument] });
  const [duplicate] = useMutation(DuplicateTaskDefinitionDocument, { refetchQueries: [TasksDocument] });
  const repositories = data?.taskRepositories ?? [];
  const definitions = data?.taskDefinitions ?? [];
  const editingDefinition = editing?.kind === 'definition' ? editing.definition : null;

  return (
    <div className="page">
      <PageHeader title="Tasks" subtitle="Scripts that stages run for each tile, and how to call them." />
      {error && <QueryError error={error} retry={() => void refetch()} />}
      {loading && !data && <Loading what="tasks" />}
      {data && (
        <>
          <Panel
            title="Task definitions"
            actions={
              <button
                type="button"
                className="btn btn-primary"
                onClick={() => setEditing({ kind: 'definition', definition: null })}
              >
                New definition
              </button>
            }
          >
            {definitions.length === 0 ? (
              <Empty>No task definitions yet.</Empty>
            ) : (
              <table className="table" data-testid="definitions">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Script</th>
                    <th>Check</th>
                    <th>Arguments</th>
                    <th className="num">Units (local / cluster)</th>
                    <th className="num">Retries</th>
                    <th aria-label="Actions" />
                  </tr>
                </thead>
                <tbody>
                  {definitions.map((d) => (
                    <tr key={d.id} data-definition={d.name}>
                      <td>
                        <button
                          type="button"
                          className="link strong"
                          onClick={() => setEditing({ kind: 'definition', definition: d })}
                        >
                          {d.name}
                        </button>
                        {d.description && <div className="muted small">{d.description}</div>}
                      </td>
                      <td className="mono small">
                        {d.repository && <span className="muted">{d.repository.name}: </span>}
                        {d.script}
                      </td>
                      <td>
                        <ScriptBadge status={d.scriptStatus} />
                      </td>
                      <td>
                        <ArgsPreview args={d.args} />
                      </td>
                      <td className="num">
                        {d.localWorkUnits} / {d.clusterWorkUnits}
                      </td>
                      <td className="num">{d.maxRetries}</td>
                      <td className="actions">
                        <ActionButton
                          small
                          onRun={async () =>
                            (await duplicate({ variables: { id: d.id } })).data?.duplicateTaskDefinition.errors
                          }
                        >
                          Duplicate
                        </ActionButton>
                        <ActionButton
                          small
                          variant="danger"
                          onRun={async () => {
                            if (!window.confirm(`Archive the task definition "${d.name}"?`)) return;
                            return (await archiveDefinition({ variables: { id: d.id } })).data?.archiveTaskDefinition
                              .errors;
                          }}
                        >
                          Archive
                        </ActionButton>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
          <Panel
            title="Repositories"
            actions={
              <button
                type="button"
                className="btn"
                onClick={() => setEditing({ kind: 'repository', repository: null })}
              >
                New repository
              </button>
            }
          >
            {repositories.length === 0 ? (
              <Empty>No repositories: definitions then name absolute script paths.</Empty>
            ) : (
              <table className="table">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Location</th>
                    <th className="num">Definitions</th>
                    <th aria-label="Actions" />
                  </tr>
                </thead>
                <tbody>
                  {repositories.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <button
                          type="button"
                          className="link strong"
                          onClick={() => setEditing({ kind: 'repository', repository: r })}
                        >
                          {r.name}
                        </button>
                        {r.description && <div className="muted small">{r.description}</div>}
                      </td>
                      <td className="mono small">{r.location}</td>
                      <td className="num">{definitions.filter((d) => d.repository?.id === r.id).length}</td>
                      <td className="actions">
                        <ActionButton
                          small
                          variant="danger"
                          onRun={async () => {
                            if (!window.confirm(`Archive the repository "${r.name}"?`)) return;
                            return (await archiveRepository({ variables: { id: r.id } })).data?.archiveTaskRepository
                              .errors;
                          }}
                        >
                          Archive
                        </ActionButton>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </Panel>
        </>
      )}
      {editing?.kind === 'repository' && (
        <RepositoryDrawer repository={editing.repository} onClose={() => setEditing(null)} />
      )}
      {editing?.kind === 'definition' && (
        <DefinitionEditor
          key={editingDefinition?.id ?? 'new'}
          definition={editingDefinition}
          repositories={repositories}
          onClose={() => setEditing(null)}
        />
      )}
    </div>
  );
}
