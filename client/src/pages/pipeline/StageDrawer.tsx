import { useState, type FormEvent } from 'react';
import { useMutation } from '@apollo/client/react';
import { STAGE_KINDS, TARGET_PREFERENCES, StageKind, TargetPreference } from '@tileflow/shared';
import { stageKind as stageKindOf, targetPreference as targetOf, toGql } from '../../api/enums';
import {
  ArchiveStageDocument,
  CreateStageDocument,
  PipelineDocument,
  UpdateStageDocument,
  type PipelineQuery,
  type StageFieldsFragment,
} from '../../api/generated';
import {
  ActionButton,
  ActionError,
  Field,
  FormErrors,
  errorMessage,
  type FieldErrorList,
} from '../../components/forms';
import { Drawer } from '../../components/ui';
import { Link } from '../../router';
import { KIND_LABELS } from './labels';

const KIND_HINTS: Readonly<Record<StageKind, string>> = {
  map: 'A tile is ready when the parent stage completed it.',
  'adjacent-x': 'Ready when the parent completed the tile and its +1 neighbour on x.',
  'adjacent-y': 'Ready when the parent completed the tile and its +1 neighbour on y.',
  'adjacent-z': 'Ready when the parent completed the tile and its next plane on z (skipped planes are skipped).',
};

const TARGET_LABELS: Readonly<Record<TargetPreference, string>> = {
  any: 'Anywhere (local first)',
  local: 'Local workers only',
  cluster: 'Cluster only',
};

const SHOWN = ['name', 'description', 'kind', 'taskDefinitionId', 'outputPath', 'target'];

/** Adds a stage under a parent, or edits one (and removes it). */
export function StageDrawer(props: {
  projectId: string;
  stages: readonly StageFieldsFragment[];
  definitions: PipelineQuery['taskDefinitions'];
  state: { mode: 'create'; parentId: string | null } | { mode: 'edit'; stage: StageFieldsFragment };
  onClose(): void;
}) {
  const { state, definitions } = props;
  const editing = state.mode === 'edit' ? state.stage : null;
  const parentId = state.mode === 'create' ? state.parentId : state.stage.parentId;
  const parent = props.stages.find((s) => s.id === parentId);
  const [name, setName] = useState(editing?.name ?? '');
  const [description, setDescription] = useState(editing?.description ?? '');
  const [kind, setKind] = useState<StageKind>(editing ? stageKindOf(editing.kind) : StageKind.Map);
  const [definitionId, setDefinitionId] = useState(editing?.taskDefinition.id ?? definitions[0]?.id ?? '');
  const [outputPath, setOutputPath] = useState(editing?.outputPath ?? '');
  const [target, setTarget] = useState<TargetPreference>(editing ? targetOf(editing.target) : TargetPreference.Any);
  const [errors, setErrors] = useState<FieldErrorList | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const refetch = { refetchQueries: [PipelineDocument] };
  const [create, createState] = useMutation(CreateStageDocument, refetch);
  const [update, updateState] = useMutation(UpdateStageDocument);
  const [archive] = useMutation(ArchiveStageDocument, refetch);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    const common = {
      name: name.trim(),
      description,
      kind: toGql(kind),
      outputPath: outputPath.trim(),
      target: toGql(target),
    };
    try {
      if (editing) {
        const r = (
          await update({ variables: { id: editing.id, input: { ...common, taskDefinitionId: definitionId } } })
        ).data?.updateStage;
        setErrors(r?.errors ?? null);
        if (r?.stage) props.onClose();
      } else {
        const r = (
          await create({
            variables: {
              input: {
                ...common,
                projectId: props.projectId,
                parentId: parentId ?? null,
                taskDefinitionId: definitionId,
              },
            },
          })
        ).data?.createStage;
        setErrors(r?.errors ?? null);
        if (r?.stage) props.onClose();
      }
    } catch (err) {
      setFailure(errorMessage(err));
    }
  };

  const title = editing
    ? `Edit ${editing.name}`
    : parent
      ? `Add a stage after ${parent.name}`
      : 'Add a stage after the input';
  return (
    <Drawer title={title} onClose={props.onClose} testId="stage-drawer">
      <form onSubmit={submit} aria-label={title} noValidate>
        <Field label="Name" field="name" errors={errors}>
          <input name="stageName" value={name} onChange={(e) => setName(e.target.value)} autoFocus required />
        </Field>
        <Field label="Description" field="description" errors={errors}>
          <input name="stageDescription" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <Field label="Kind" field="kind" errors={errors} hint={KIND_HINTS[kind]}>
          <select name="stageKind" value={kind} onChange={(e) => setKind(e.target.value as StageKind)}>
            {STAGE_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Task definition"
          field="taskDefinitionId"
          errors={errors}
          hint={
            definitions.length === 0 ? (
              <>
                No task definitions yet: <Link to="/tasks">create one under Tasks</Link>.
              </>
            ) : (
              <>Scripts get src, dst, relative path and tile name, then the definition's arguments.</>
            )
          }
        >
          <select name="taskDefinition" value={definitionId} onChange={(e) => setDefinitionId(e.target.value)}>
            {definitions.length === 0 && <option value="">—</option>}
            {definitions.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} ({d.script})
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Output path"
          field="outputPath"
          errors={errors}
          hint="Where this stage writes its results (the scripts' dst)."
        >
          <input
            name="outputPath"
            value={outputPath}
            onChange={(e) => setOutputPath(e.target.value)}
            placeholder="/data/output/stage"
            required
          />
        </Field>
        <Field label="Runs on" field="target" errors={errors}>
          <select name="target" value={target} onChange={(e) => setTarget(e.target.value as TargetPreference)}>
            {TARGET_PREFERENCES.map((t) => (
              <option key={t} value={t}>
                {TARGET_LABELS[t]}
              </option>
            ))}
          </select>
        </Field>
        <FormErrors errors={errors} shown={SHOWN} />
        <ActionError error={failure} />
        <div className="form-actions">
          {editing && (
            <ActionButton
              variant="danger"
              onRun={async () => {
                if (!window.confirm(`Remove stage "${editing.name}"? Its downstream stages move up to its parent.`))
                  return;
                const r = (await archive({ variables: { id: editing.id } })).data?.archiveStage;
                if (r?.errors.length) return r.errors;
                props.onClose();
              }}
            >
              Remove stage
            </ActionButton>
          )}
          <span className="spacer" />
          <button type="button" className="btn btn-plain" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={createState.loading || updateState.loading}>
            {editing ? 'Save' : 'Add stage'}
          </button>
        </div>
      </form>
    </Drawer>
  );
}
