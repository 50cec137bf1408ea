import fs from 'node:fs/promises';
import path from 'node:path';
import { Op, type Sequelize } from 'sequelize';
import { TILE_STATUSES, type TileStatus } from '@tileflow/shared';
import { getModels, type TaskExecutionRow } from '../../../db/models/index.js';
import type { SchedulerActions } from '../../../scheduler/contracts.js';
import { ForbiddenError, isTileId, isUuid, notFound, type FieldError } from '../../errors.js';
import { findLiveStage } from '../stages/service.js';
import { LogStream } from './log.js';

export type ActionResult = { count: number; errors: FieldError[] };

export async function findExecution(sequelize: Sequelize, id: string): Promise<TaskExecutionRow | null> {
  return isUuid(id) ? getModels(sequelize).TaskExecution.findByPk(id, { raw: true }) : null;
}

/** Default and largest chunk of a log returned at once. */
export const LOG_DEFAULT_LIMIT = 64 * 1024;
export const LOG_MAX_LIMIT = 1024 * 1024;

export interface LogChunk {
  offset: number;
  nextOffset: number;
  size: number;
  text: string;
}

/** Bytes at the end of `buf` that start a UTF-8 sequence it does not finish (0 to 3). */
function incompleteUtf8Tail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back];
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** Whether `file` lies under `root`, lexically and after resolving symlinks of what exists. */
async function isUnder(root: string, file: string): Promise<boolean> {
  const lexical = (r: string, f: string) => {
    const rel = path.relative(path.resolve(r), path.resolve(f));
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  };
  if (!lexical(root, file)) return false;
  try {
    const [realRoot, realFile] = await Promise.all([fs.realpath(root), fs.realpath(file)]);
    return lexical(realRoot, realFile);
  } catch {
    return true; // the file does not exist (yet): the lexical check stands
  }
}

/**
 * Reads part of an execution's stdout or stderr: from `offset`, or the last `tailBytes`, at most `limit` bytes.
 * Only files under the project's log root (or, without one, the stage's log folder) are read.
 * Returns null when the execution or its log path is unknown; an empty chunk while the file does not exist yet.
 */
export async function readExecutionLog(
  sequelize: Sequelize,
  id: string,
  stream: LogStream,
  opts: { offset?: number | null; tailBytes?: number | null; limit?: number | null },
): Promise<LogChunk | null> {
  const execution = await findExecution(sequelize, id);
  if (!execution) return null;
  const file = stream === LogStream.Stdout ? execution.stdoutPath : execution.stderrPath;
  if (!file) return null;
  const { Project, Stage } = getModels(sequelize);
  const [project, stage] = await Promise.all([
    Project.findByPk(execution.projectId, { raw: true }),
    Stage.findByPk(execution.stageId, { raw: true }),
  ]);
  const logRoot = project?.logRootPath ?? (stage ? path.join(stage.outputPath, '.tileflow-logs') : null);
  if (!logRoot || !(await isUnder(logRoot, file))) {
    throw new ForbiddenError(`The log path of execution ${id} is outside the project's log root: it is not served`);
  }
  const limit = Math.min(Math.max(1, Math.floor(opts.limit ?? LOG_DEFAULT_LIMIT)), LOG_MAX_LIMIT);
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { offset: 0, nextOffset: 0, size: 0, text: '' };
    throw err;
  }
  try {
    const size = (await handle.stat()).size;
    let start: number;
    if (opts.tailBytes != null) start = Math.max(0, size - Math.max(0, opts.tailBytes));
    else start = Math.min(Math.max(0, Math.floor(opts.offset ?? 0)), size);
    const length = Math.min(limit, size - start);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, start);
    let data = buffer.subarray(0, bytesRead);
    // Do not split a character: the caller continues from nextOffset and gets it whole.
    if (start + bytesRead < size) data = data.subarray(0, data.length - incompleteUtf8Tail(data));
    return { offset: start, nextOffset: start + data.length, size, text: data.toString('utf8') };
  } finally {
    await handle.close();
  }
}

const isTileStatus = (v: string): v is TileStatus => (TILE_STATUSES as string[]).includes(v);

export async function resubmitTiles(
  sequelize: Sequelize,
  actions: SchedulerActions,
  stageId: string,
  tileIds: string[] | null | undefined,
  status: TileStatus | null | undefined,
): Promise<ActionResult> {
  const stage = await findLiveStage(sequelize, stageId);
  if (!stage) return { count: 0, errors: [notFound('stageId', 'stage', stageId)] };
  if ((tileIds == null) === (status == null)) {
    return {
      count: 0,
      errors: [{ field: 'tileIds', message: 'give either tileIds or status (not both, not neither)' }],
    };
  }
  if (tileIds) {
    const bad = tileIds.filter((t) => !isTileId(t));
    if (bad.length > 0)
      return { count: 0, errors: [{ field: 'tileIds', message: `not tile ids: ${bad.slice(0, 5).join(', ')}` }] };
    if (tileIds.length === 0) return { count: 0, errors: [] };
    return { count: await actions.resubmit(stageId, { tileIds }), errors: [] };
  }
  if (!status || !isTileStatus(status)) return { count: 0, errors: [{ field: 'status', message: 'unknown status' }] };
  return { count: await actions.resubmit(stageId, { status }), errors: [] };
}

/** Resubmits by relative path; unknown paths are field errors and nothing is resubmitted. */
export async function resubmitTilePaths(
  sequelize: Sequelize,
  actions: SchedulerActions,
  stageId: string,
  relativePaths: string[],
): Promise<ActionResult> {
  const stage = await findLiveStage(sequelize, stageId);
  if (!stage) return { count: 0, errors: [notFound('stageId', 'stage', stageId)] };
  if (relativePaths.length === 0) return { count: 0, errors: [] };
  const known = await getModels(sequelize).Tile.findAll({
    where: { projectId: stage.projectId, relativePath: { [Op.in]: relativePaths } },
    attributes: ['relativePath'],
    raw: true,
  });
  const found = new Set(known.map((t) => t.relativePath));
  const unknown = relativePaths.filter((p) => !found.has(p));
  if (unknown.length > 0) {
    const list = unknown
      .slice(0, 5)
      .map((p) => `"${p}"`)
      .join(', ');
    return {
      count: 0,
      errors: [
        {
          field: 'relativePaths',
          message: `no tile with relative path ${list}${unknown.length > 5 ? ` (and ${unknown.length - 5} more)` : ''} in this project: check the paths (relative to the project root)`,
        },
      ],
    };
  }
  return { count: await actions.resubmit(stageId, { relativePaths }), errors: [] };
}

export async function cancelTiles(
  sequelize: Sequelize,
  actions: SchedulerActions,
  stageId: string,
  tileIds: string[] | null | undefined,
): Promise<ActionResult> {
  const stage = await findLiveStage(sequelize, stageId);
  if (!stage) return { count: 0, errors: [notFound('stageId', 'stage', stageId)] };
  if (tileIds) {
    const bad = tileIds.filter((t) => !isTileId(t));
    if (bad.length > 0)
      return { count: 0, errors: [{ field: 'tileIds', message: `not tile ids: ${bad.slice(0, 5).join(', ')}` }] };
  }
  return { count: await actions.cancel(stageId, tileIds ?? undefined), errors: [] };
}
