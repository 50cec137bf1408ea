import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Op, type Sequelize } from 'sequelize';
import { PathEscapeError, resolveUnder, type ClusterOptions } from '@tileflow/shared';
import { getModels, type TaskDefinitionRow, type TaskRepositoryRow } from '../../../db/models/index.js';
import { FieldErrors, isUuid, notFound, type FieldError } from '../../errors.js';
import type { ClusterOptionsInput, TaskDefinitionInput, TaskRepositoryInput } from '../../generated/resolvers.js';
import { nameProblem, readableFolderProblem } from '../../validation.js';

export type RepositoryResult = { repository: TaskRepositoryRow | null; errors: FieldError[] };
export type DefinitionResult = { definition: TaskDefinitionRow | null; errors: FieldError[] };

export async function listRepositories(sequelize: Sequelize, includeArchived: boolean): Promise<TaskRepositoryRow[]> {
  return getModels(sequelize).TaskRepository.findAll({
    where: includeArchived ? {} : { archivedAt: null },
    order: [['name', 'ASC']],
    raw: true,
  });
}

export async function findRepository(sequelize: Sequelize, id: string): Promise<TaskRepositoryRow | null> {
  return isUuid(id) ? getModels(sequelize).TaskRepository.findByPk(id, { raw: true }) : null;
}

export async function listDefinitions(
  sequelize: Sequelize,
  opts: { includeArchived: boolean; repositoryId?: string },
): Promise<TaskDefinitionRow[]> {
  return getModels(sequelize).TaskDefinition.findAll({
    where: {
      ...(opts.includeArchived ? {} : { archivedAt: null }),
      ...(opts.repositoryId ? { repositoryId: opts.repositoryId } : {}),
    },
    order: [
      ['name', 'ASC'],
      ['createdAt', 'ASC'],
    ],
    raw: true,
  });
}

export async function findDefinition(sequelize: Sequelize, id: string): Promise<TaskDefinitionRow | null> {
  return isUuid(id) ? getModels(sequelize).TaskDefinition.findByPk(id, { raw: true }) : null;
}

async function repositoryNameTaken(sequelize: Sequelize, name: string, exceptId?: string) {
  const where = { name, archivedAt: null, ...(exceptId ? { id: { [Op.ne]: exceptId } } : {}) };
  return (await getModels(sequelize).TaskRepository.count({ where })) > 0;
}

async function checkRepositoryInput(sequelize: Sequelize, input: TaskRepositoryInput, exceptId?: string) {
  const errors = new FieldErrors();
  const name = input.name.trim();
  const np = nameProblem(name);
  if (np) errors.add('name', np);
  else if (await repositoryNameTaken(sequelize, name, exceptId)) {
    errors.add('name', `a task repository named "${name}" exists: choose another name`);
  }
  const lp = await readableFolderProblem(input.location);
  if (lp) errors.add('location', lp);
  return { errors, name };
}

export async function createRepository(sequelize: Sequelize, input: TaskRepositoryInput): Promise<RepositoryResult> {
  const { errors, name } = await checkRepositoryInput(sequelize, input);
  if (errors.has()) return { repository: null, errors: errors.list };
  const r = await getModels(sequelize).TaskRepository.create({
    name,
    location: path.resolve(input.location),
    description: input.description ?? '',
  });
  return { repository: r.get({ plain: true }), errors: [] };
}

export async function updateRepository(
  sequelize: Sequelize,
  id: string,
  input: TaskRepositoryInput,
): Promise<RepositoryResult> {
  const existing = await findRepository(sequelize, id);
  if (!existing || existing.archivedAt) return { repository: null, errors: [notFound('id', 'task repository', id)] };
  const { errors, name } = await checkRepositoryInput(sequelize, input, id);
  if (errors.has()) return { repository: null, errors: errors.list };
  const { TaskRepository } = getModels(sequelize);
  await TaskRepository.update(
    { name, location: path.resolve(input.location), description: input.description ?? existing.description },
    { where: { id } },
  );
  return { repository: await TaskRepository.findByPk(id, { raw: true }), errors: [] };
}

export async function archiveRepository(sequelize: Sequelize, id: string): Promise<RepositoryResult> {
  const existing = await findRepository(sequelize, id);
  if (!existing || existing.archivedAt) return { repository: null, errors: [notFound('id', 'task repository', id)] };
  const { TaskRepository, TaskDefinition } = getModels(sequelize);
  const live = await TaskDefinition.count({ where: { repositoryId: id, archivedAt: null } });
  if (live > 0) {
    return {
      repository: null,
      errors: [{ field: 'id', message: `${live} live task definition(s) use this repository: archive them first` }],
    };
  }
  await TaskRepository.update({ archivedAt: new Date() }, { where: { id } });
  return { repository: await TaskRepository.findByPk(id, { raw: true }), errors: [] };
}

/**
 * Absolute path of a definition's script. A relative script lives in its repository's folder and may not leave it;
 * an absolute one is taken as is.
 */
export function scriptPath(script: string, repositoryLocation: string | null | undefined): string {
  if (path.isAbsolute(script) || !repositoryLocation) return path.resolve(script);
  return resolveUnder(repositoryLocation, script);
}

function checkClusterOptions(
  errors: FieldErrors,
  o: ClusterOptionsInput | null | undefined,
): ClusterOptions | undefined {
  if (!o) return undefined;
  const positive = (key: 'cpus' | 'memoryMb' | 'timeLimitMinutes') => {
    const v = o[key];
    if (v != null && v <= 0) errors.add(`clusterOptions.${key}`, `must be greater than 0 (or omitted), got ${v}`);
  };
  positive('cpus');
  positive('memoryMb');
  positive('timeLimitMinutes');
  (o.extraArgs ?? []).forEach((a, i) => {
    if (!a.startsWith('-'))
      errors.add(`clusterOptions.extraArgs.${i}`, `"${a}" is not an option: write it as --name=value`);
  });
  const out: ClusterOptions = {};
  if (o.partition) out.partition = o.partition;
  if (o.cpus != null) out.cpus = o.cpus;
  if (o.memoryMb != null) out.memoryMb = o.memoryMb;
  if (o.timeLimitMinutes != null) out.timeLimitMinutes = o.timeLimitMinutes;
  if (o.extraArgs?.length) out.extraArgs = o.extraArgs;
  return out;
}

/** Validates a definition's input; `base` is the definition being updated (absent on create). */
async function checkDefinitionInput(
  sequelize: Sequelize,
  input: TaskDefinitionInput,
  base?: TaskDefinitionRow,
): Promise<{ errors: FieldErrors; changes: Partial<TaskDefinitionRow> }> {
  const errors = new FieldErrors();
  const changes: Partial<TaskDefinitionRow> = {};
  if (input.name != null || !base) {
    const name = (input.name ?? '').trim();
    const np = nameProblem(name);
    if (np) errors.add('name', np === 'must not be empty' ? 'is required: name the task' : np);
    changes.name = name;
  }
  if (input.description != null) changes.description = input.description;

  let location: string | null = null;
  const repositoryId = input.repositoryId !== undefined ? input.repositoryId || null : (base?.repositoryId ?? null);
  if (repositoryId) {
    const repo = await findRepository(sequelize, repositoryId);
    if (!repo || repo.archivedAt) errors.add('repositoryId', `no live task repository with id "${repositoryId}"`);
    else location = repo.location;
  }
  if (input.repositoryId !== undefined) changes.repositoryId = repositoryId;

  const script = input.script ?? base?.script;
  if (!script || script.trim() === '') {
    errors.add('script', 'is required: give the script path (relative to the repository, or absolute)');
  } else if (input.script != null || input.repositoryId !== undefined) {
    if (script.includes('\0')) errors.add('script', 'must not contain NUL bytes');
    else if (!location && !path.isAbsolute(script)) {
      errors.add(
        'script',
        `"${script}" is relative but the task has no repository: give an absolute path or a repositoryId`,
      );
    } else if (location) {
      try {
        // Relative scripts must stay in the repository; absolute ones are stored relative to it when inside.
        const abs = path.isAbsolute(script) ? path.resolve(script) : resolveUnder(location, script);
        const rel = path.relative(location, abs);
        if (rel.startsWith('..') || path.isAbsolute(rel)) throw new PathEscapeError(script, location);
        changes.script = rel;
      } catch (err) {
        if (!(err instanceof PathEscapeError)) throw err;
        errors.add('script', `"${script}" leaves the repository folder ${location}: use a path inside it`);
      }
    } else {
      changes.script = path.resolve(script);
    }
  }
  if (input.args != null) {
    input.args.forEach((a, i) => {
      if (a.includes('\0')) errors.add(`args.${i}`, 'must not contain NUL bytes');
    });
    changes.args = input.args;
  }
  if (input.expectedExitCode != null) {
    if (input.expectedExitCode < 0 || input.expectedExitCode > 255) {
      errors.add('expectedExitCode', `must be between 0 and 255, got ${input.expectedExitCode}`);
    }
    changes.expectedExitCode = input.expectedExitCode;
  }
  for (const key of ['localWorkUnits', 'clusterWorkUnits', 'retryBackoffSeconds'] as const) {
    const v = input[key];
    if (v == null) continue;
    if (!Number.isFinite(v) || v < 0) errors.add(key, `must be 0 or more, got ${v}`);
    changes[key] = v;
  }
  if (input.maxRetries != null) {
    if (input.maxRetries < 0) errors.add('maxRetries', `must be 0 or more, got ${input.maxRetries}`);
    changes.maxRetries = input.maxRetries;
  }
  if (input.timeoutSeconds !== undefined) {
    if (input.timeoutSeconds !== null && input.timeoutSeconds <= 0) {
      errors.add('timeoutSeconds', `must be greater than 0, or null for no limit; got ${input.timeoutSeconds}`);
    }
    changes.timeoutSeconds = input.timeoutSeconds;
  }
  const cluster = checkClusterOptions(errors, input.clusterOptions);
  if (cluster) changes.clusterOptions = cluster;
  return { errors, changes };
}

export async function createDefinition(sequelize: Sequelize, input: TaskDefinitionInput): Promise<DefinitionResult> {
  const { errors, changes } = await checkDefinitionInput(sequelize, input);
  if (errors.has()) return { definition: null, errors: errors.list };
  const d = await getModels(sequelize).TaskDefinition.create({
    ...changes,
    name: changes.name!,
    script: changes.script!,
  });
  return { definition: d.get({ plain: true }), errors: [] };
}

export async function updateDefinition(
  sequelize: Sequelize,
  id: string,
  input: TaskDefinitionInput,
): Promise<DefinitionResult> {
  const existing = await findDefinition(sequelize, id);
  if (!existing || existing.archivedAt) return { definition: null, errors: [notFound('id', 'task definition', id)] };
  const { errors, changes } = await checkDefinitionInput(sequelize, input, existing);
  if (errors.has()) return { definition: null, errors: errors.list };
  const { TaskDefinition } = getModels(sequelize);
  await TaskDefinition.update(changes, { where: { id } });
  return { definition: await TaskDefinition.findByPk(id, { raw: true }), errors: [] };
}

export async function duplicateDefinition(
  sequelize: Sequelize,
  id: string,
  name: string | null | undefined,
): Promise<DefinitionResult> {
  const existing = await findDefinition(sequelize, id);
  if (!existing) return { definition: null, errors: [notFound('id', 'task definition', id)] };
  const newName = (name ?? `${existing.name} (copy)`).trim();
  const np = nameProblem(newName);
  if (np) return { definition: null, errors: [{ field: 'name', message: np }] };
  const { id: _id, createdAt: _c, updatedAt: _u, archivedAt: _a, ...copy } = existing;
  const d = await getModels(sequelize).TaskDefinition.create({ ...copy, name: newName });
  return { definition: d.get({ plain: true }), errors: [] };
}

export async function archiveDefinition(sequelize: Sequelize, id: string): Promise<DefinitionResult> {
  const existing = await findDefinition(sequelize, id);
  if (!existing || existing.archivedAt) return { definition: null, errors: [notFound('id', 'task definition', id)] };
  const { TaskDefinition, Stage } = getModels(sequelize);
  const users = await Stage.findAll({
    where: { taskDefinitionId: id, archivedAt: null },
    attributes: ['name'],
    raw: true,
  });
  if (users.length > 0) {
    const names = users.map((s) => `"${s.name}"`).join(', ');
    return {
      definition: null,
      errors: [{ field: 'id', message: `used by stage(s) ${names}: give them another task or archive them first` }],
    };
  }
  await TaskDefinition.update({ archivedAt: new Date() }, { where: { id } });
  return { definition: await TaskDefinition.findByPk(id, { raw: true }), errors: [] };
}

/** What the UI shows about a script: whether it exists and can run, and its first 64 KiB. */
export interface ScriptStatus {
  exists: boolean;
  executable: boolean;
  message: string | null;
  contents: string | null;
}

export const SCRIPT_PREVIEW_BYTES = 64 * 1024;

export async function scriptStatus(absolutePath: string): Promise<ScriptStatus> {
  let handle: fs.FileHandle | undefined;
  try {
    const st = await fs.stat(absolutePath);
    if (!st.isFile())
      return { exists: false, executable: false, message: `${absolutePath} is not a file`, contents: null };
    let executable = true;
    let message: string | null = null;
    try {
      await fs.access(absolutePath, fsConstants.X_OK);
    } catch {
      executable = false;
      message = `${absolutePath} is not executable: run chmod +x on it`;
    }
    handle = await fs.open(absolutePath, 'r');
    const buffer = Buffer.alloc(Math.min(SCRIPT_PREVIEW_BYTES, st.size));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { exists: true, executable, message, contents: buffer.subarray(0, bytesRead).toString('utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `${absolutePath} does not exist (as seen by the coordinator)`
        : code === 'EACCES'
          ? `${absolutePath} cannot be read by the coordinator`
          : `${absolutePath} cannot be read (${code ?? 'error'})`;
    return { exists: code !== 'ENOENT' && code !== 'ENOTDIR', executable: false, message, contents: null };
  } finally {
    await handle?.close();
  }
}
