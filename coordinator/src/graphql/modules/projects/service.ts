import { Op, QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { INPUT_KINDS, InputKind, InputState, StageKind, UnreachableCaseError } from '@tileflow/shared';
import { getModels, type ProjectRow } from '../../../db/models/index.js';
import { validateInputOptions } from '../../../input-sources/index.js';
import { notifyChange } from '../../../db/notify.js';
import type { SchedulerActions } from '../../../scheduler/contracts.js';
import { FieldErrors, isUuid, notFound, type FieldError } from '../../errors.js';
import type { CreateProjectInput, ParameterInput, RegionInput, UpdateProjectInput } from '../../generated/resolvers.js';
import { PARAMETER_NAME, absolutePathProblem, nameProblem, readableFolderProblem } from '../../validation.js';

export type ProjectResult = { project: ProjectRow | null; errors: FieldError[] };

const plain = (m: { get(o: { plain: true }): ProjectRow }) => m.get({ plain: true });

export async function listProjects(sequelize: Sequelize, includeArchived: boolean): Promise<ProjectRow[]> {
  return getModels(sequelize).Project.findAll({
    where: includeArchived ? {} : { archivedAt: null },
    order: [
      ['createdAt', 'ASC'],
      ['id', 'ASC'],
    ],
    raw: true,
  });
}

export async function findProject(sequelize: Sequelize, id: string): Promise<ProjectRow | null> {
  if (!isUuid(id)) return null;
  return getModels(sequelize).Project.findByPk(id, { raw: true });
}

/** The live (not archived) project, or null. */
export async function findLiveProject(sequelize: Sequelize, id: string): Promise<ProjectRow | null> {
  const p = await findProject(sequelize, id);
  return p && !p.archivedAt ? p : null;
}

type Region = {
  minX?: number | null;
  maxX?: number | null;
  minY?: number | null;
  maxY?: number | null;
  minZ?: number | null;
  maxZ?: number | null;
};

function checkRegion(errors: FieldErrors, field: string, r: RegionInput | null | undefined): void {
  if (!r) return;
  for (const axis of ['X', 'Y', 'Z'] as const) {
    const min = r[`min${axis}`];
    const max = r[`max${axis}`];
    if (min != null && max != null && min > max) {
      errors.add(`${field}.min${axis}`, `min${axis} (${min}) is greater than max${axis} (${max}): swap them`);
    }
  }
}

function checkParameters(errors: FieldErrors, params: ParameterInput[] | null | undefined): void {
  if (!params) return;
  const seen = new Set<string>();
  params.forEach((p, i) => {
    if (!PARAMETER_NAME.test(p.key)) {
      errors.add(
        `parameters.${i}.key`,
        `"${p.key}" is not a parameter name: use letters, digits and _, not starting with a digit`,
      );
    } else if (seen.has(p.key)) {
      errors.add(`parameters.${i}.key`, `"${p.key}" is given twice: keep one`);
    }
    seen.add(p.key);
  });
}

/** Options of the input kind, checked by the input source itself (field names prefixed with inputOptions.). */
function checkInputOptions(errors: FieldErrors, kind: InputKind, options: unknown): void {
  const result = validateInputOptions(kind, options ?? {});
  if (result.ok) return;
  for (const e of result.errors) {
    errors.add(e.field === 'inputKind' ? 'inputKind' : e.field ? `inputOptions.${e.field}` : 'inputOptions', e.message);
  }
}

const regionColumns = (r: Region | null | undefined) => ({
  roiMinX: r?.minX ?? null,
  roiMaxX: r?.maxX ?? null,
  roiMinY: r?.minY ?? null,
  roiMaxY: r?.maxY ?? null,
  roiMinZ: r?.minZ ?? null,
  roiMaxZ: r?.maxZ ?? null,
});

const parametersObject = (params: ParameterInput[]) => Object.fromEntries(params.map((p) => [p.key, p.value]));

async function nameTaken(sequelize: Sequelize, name: string, exceptId?: string): Promise<boolean> {
  const where = { name, archivedAt: null, ...(exceptId ? { id: { [Op.ne]: exceptId } } : {}) };
  return (await getModels(sequelize).Project.count({ where })) > 0;
}

export async function createProject(sequelize: Sequelize, input: CreateProjectInput): Promise<ProjectResult> {
  const errors = new FieldErrors();
  const name = input.name.trim();
  const np = nameProblem(name);
  if (np) errors.add('name', np);
  else if (await nameTaken(sequelize, name))
    errors.add('name', `a project named "${name}" exists: choose another name`);
  const rp = await readableFolderProblem(input.rootPath);
  if (rp) errors.add('rootPath', rp);
  if (input.logRootPath) {
    const lp = absolutePathProblem(input.logRootPath);
    if (lp) errors.add('logRootPath', lp);
  }
  const kind = input.inputKind ?? InputKind.PipelineJson;
  checkInputOptions(errors, kind, input.inputOptions);
  checkRegion(errors, 'regionOfInterest', input.regionOfInterest);
  checkParameters(errors, input.parameters);
  if (errors.has()) return { project: null, errors: errors.list };

  const created = await sequelize.transaction(async (transaction) => {
    const p = await getModels(sequelize).Project.create(
      {
        name,
        description: input.description ?? '',
        rootPath: input.rootPath,
        logRootPath: input.logRootPath || null,
        inputKind: kind,
        inputOptions: (input.inputOptions as Record<string, unknown> | null | undefined) ?? {},
        ...regionColumns(input.regionOfInterest),
        skipZ: [...new Set(input.skippedZPlanes ?? [])].sort((a, b) => a - b),
        parameters: parametersObject(input.parameters ?? []),
      },
      { transaction },
    );
    await notifyChange(sequelize, { type: 'topology', projectId: p.id }, transaction);
    return p;
  });
  return { project: plain(created), errors: [] };
}

export async function updateProject(
  sequelize: Sequelize,
  id: string,
  input: UpdateProjectInput,
): Promise<ProjectResult> {
  const project = await findLiveProject(sequelize, id);
  if (!project) return { project: null, errors: [notFound('id', 'project', id)] };
  const errors = new FieldErrors();
  const changes: Partial<ProjectRow> = {};
  if (input.name != null) {
    const name = input.name.trim();
    const np = nameProblem(name);
    if (np) errors.add('name', np);
    else if (await nameTaken(sequelize, name, id))
      errors.add('name', `a project named "${name}" exists: choose another name`);
    changes.name = name;
  }
  if (input.description != null) changes.description = input.description;
  if (input.rootPath != null) {
    const rp = await readableFolderProblem(input.rootPath);
    if (rp) errors.add('rootPath', rp);
    changes.rootPath = input.rootPath;
  }
  if (input.logRootPath !== undefined) {
    if (input.logRootPath) {
      const lp = absolutePathProblem(input.logRootPath);
      if (lp) errors.add('logRootPath', lp);
    }
    changes.logRootPath = input.logRootPath || null;
  }
  const kind = input.inputKind ?? project.inputKind;
  if (input.inputKind != null) changes.inputKind = input.inputKind;
  if (input.inputOptions !== undefined || input.inputKind != null) {
    const options = input.inputOptions !== undefined ? input.inputOptions : project.inputOptions;
    checkInputOptions(errors, kind, options);
    changes.inputOptions = (options as Record<string, unknown> | null) ?? {};
  }
  if (input.regionOfInterest !== undefined) {
    checkRegion(errors, 'regionOfInterest', input.regionOfInterest);
    Object.assign(changes, regionColumns(input.regionOfInterest));
  }
  if (input.skippedZPlanes != null) changes.skipZ = [...new Set(input.skippedZPlanes)].sort((a, b) => a - b);
  if (input.parameters != null) {
    checkParameters(errors, input.parameters);
    changes.parameters = parametersObject(input.parameters);
  }
  if (errors.has()) return { project: null, errors: errors.list };
  if (changes.rootPath !== undefined || changes.inputKind !== undefined || changes.inputOptions !== undefined) {
    // The watcher re-reads the input from scratch; until then its state is unknown.
    changes.inputState = InputState.Unknown;
    changes.inputMessage = null;
  }
  const updated = await sequelize.transaction(async (transaction) => {
    const { Project } = getModels(sequelize);
    await Project.update(changes, { where: { id }, transaction });
    await notifyChange(sequelize, { type: 'topology', projectId: id }, transaction);
    return Project.findByPk(id, { raw: true, transaction });
  });
  return { project: updated, errors: [] };
}

/** Copies a project's settings and its live stages (the tree, not the tiles) under a new name. */
export async function duplicateProject(sequelize: Sequelize, id: string, newName: string): Promise<ProjectResult> {
  const source = await findProject(sequelize, id);
  if (!source) return { project: null, errors: [notFound('id', 'project', id)] };
  const name = newName.trim();
  const np = nameProblem(name);
  if (np) return { project: null, errors: [{ field: 'name', message: np }] };
  if (await nameTaken(sequelize, name)) {
    return {
      project: null,
      errors: [{ field: 'name', message: `a project named "${name}" exists: choose another name` }],
    };
  }
  const { Project, Stage } = getModels(sequelize);
  const copy = await sequelize.transaction(async (transaction) => {
    const {
      id: _id,
      createdAt: _c,
      updatedAt: _u,
      archivedAt: _a,
      inputState: _s,
      inputMessage: _m,
      inputCheckedAt: _k,
      ...settings
    } = source;
    const p = await Project.create({ ...settings, name, isProcessing: false }, { transaction });
    const stages = await Stage.findAll({
      where: { projectId: id, archivedAt: null },
      order: [['createdAt', 'ASC']],
      raw: true,
      transaction,
    });
    // Parents before children, so every new stage can point at its parent's copy.
    const newIds = new Map<string, string>();
    const pending = [...stages];
    while (pending.length > 0) {
      const i = pending.findIndex((s) => s.parentId === null || newIds.has(s.parentId));
      const s = pending.splice(i === -1 ? 0 : i, 1)[0];
      const created = await Stage.create(
        {
          projectId: p.id,
          parentId: s.parentId ? (newIds.get(s.parentId) ?? null) : null,
          name: s.name,
          description: s.description,
          kind: s.kind,
          taskDefinitionId: s.taskDefinitionId,
          outputPath: s.outputPath,
          target: s.target,
          isProcessing: s.isProcessing,
          backfillAfter: '0',
        },
        { transaction },
      );
      newIds.set(s.id, created.id);
    }
    await notifyChange(sequelize, { type: 'topology', projectId: p.id }, transaction);
    return p;
  });
  return { project: plain(copy), errors: [] };
}

export async function archiveProject(
  sequelize: Sequelize,
  actions: SchedulerActions,
  id: string,
): Promise<ProjectResult> {
  const project = await findLiveProject(sequelize, id);
  if (!project) return { project: null, errors: [notFound('id', 'project', id)] };
  const { Project } = getModels(sequelize);
  await sequelize.transaction(async (transaction) => {
    await Project.update({ archivedAt: new Date(), isProcessing: false }, { where: { id }, transaction });
    await notifyChange(sequelize, { type: 'topology', projectId: id }, transaction);
  });
  await actions.setProjectProcessing(id, false);
  return { project: await Project.findByPk(id, { raw: true }), errors: [] };
}

/** Starts or pauses a project: the flag is written here, the scheduler applies it to the queues. */
export async function setProjectProcessing(
  sequelize: Sequelize,
  actions: SchedulerActions,
  id: string,
  processing: boolean,
): Promise<ProjectResult> {
  const project = await findLiveProject(sequelize, id);
  if (!project) return { project: null, errors: [notFound('id', 'project', id)] };
  const { Project } = getModels(sequelize);
  await Project.update({ isProcessing: processing }, { where: { id } });
  await actions.setProjectProcessing(id, processing);
  return { project: await Project.findByPk(id, { raw: true }), errors: [] };
}

/** Axis a stage kind needs positions on, or null for map stages. */
export function adjacentAxis(kind: StageKind): 'x' | 'y' | 'z' | null {
  switch (kind) {
    case StageKind.Map:
      return null;
    case StageKind.AdjacentX:
      return 'x';
    case StageKind.AdjacentY:
      return 'y';
    case StageKind.AdjacentZ:
      return 'z';
    default:
      throw new UnreachableCaseError(kind);
  }
}

/**
 * Whether a project's items have lattice positions on `axis`. Recorded tiles decide when there are any; before the
 * first discovery the input kind does (MouseLight's JSON inputs always have them; a glob needs a positionPattern
 * with a named group for the axis; a CSV may have position columns, which only its header row tells).
 */
export async function hasLatticePositions(
  sequelize: Sequelize,
  project: ProjectRow,
  axis: 'x' | 'y' | 'z',
  transaction?: Transaction,
): Promise<boolean> {
  const [row] = await sequelize.query<{ any_tile: boolean; positioned: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM tiles WHERE project_id = $1) AS any_tile,
            EXISTS (SELECT 1 FROM tiles WHERE project_id = $1 AND ${axis} IS NOT NULL) AS positioned`,
    { bind: [project.id], type: QueryTypes.SELECT, transaction },
  );
  if (row?.any_tile) return row.positioned;
  const options = project.inputOptions ?? {};
  switch (project.inputKind) {
    case InputKind.PipelineJson:
    case InputKind.DashboardJson:
      return true;
    case InputKind.Glob:
      return typeof options.positionPattern === 'string' && options.positionPattern.includes(`(?<${axis}>`);
    case InputKind.Csv:
      return true;
    default:
      throw new UnreachableCaseError(project.inputKind);
  }
}

export const isInputKind = (v: string): v is InputKind => (INPUT_KINDS as string[]).includes(v);
