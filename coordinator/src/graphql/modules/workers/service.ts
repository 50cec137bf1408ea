import type { Sequelize } from 'sequelize';
import { WorkerStatus } from '@tileflow/shared';
import { getModels, type WorkerRow } from '../../../db/models/index.js';
import { notifyChange } from '../../../db/notify.js';
import { FieldErrors, isUuid, notFound, type FieldError } from '../../errors.js';
import type { WorkerUpdateInput } from '../../generated/resolvers.js';

export type WorkerResult = { worker: WorkerRow | null; errors: FieldError[] };

export async function listWorkers(sequelize: Sequelize): Promise<WorkerRow[]> {
  return getModels(sequelize).Worker.findAll({ order: [['name', 'ASC']], raw: true });
}

export async function findWorker(sequelize: Sequelize, id: string): Promise<WorkerRow | null> {
  return isUuid(id) ? getModels(sequelize).Worker.findByPk(id, { raw: true }) : null;
}

/**
 * Changes a worker's desired state. The daemon reads it with its next heartbeat (about a second); the change notice
 * wakes the scheduler and the UI.
 */
export async function updateWorker(sequelize: Sequelize, id: string, input: WorkerUpdateInput): Promise<WorkerResult> {
  const worker = await findWorker(sequelize, id);
  if (!worker) return { worker: null, errors: [notFound('id', 'worker', id)] };
  const errors = new FieldErrors();
  const changes: Partial<WorkerRow> = {};
  for (const key of ['localCapacity', 'clusterCapacity'] as const) {
    const v = input[key];
    if (v == null) continue;
    if (!Number.isFinite(v) || v < 0) errors.add(key, `must be 0 or more work units, got ${v}`);
    changes[key] = v;
  }
  for (const key of ['inPool', 'paused', 'draining'] as const) {
    const v = input[key];
    if (v != null) changes[key] = v;
  }
  if (errors.has()) return { worker: null, errors: errors.list };
  const { Worker } = getModels(sequelize);
  await sequelize.transaction(async (transaction) => {
    await Worker.update(changes, { where: { id }, transaction });
    await notifyChange(sequelize, { type: 'workers', workerId: id }, transaction);
  });
  return { worker: await Worker.findByPk(id, { raw: true }), errors: [] };
}

/** Forgets a worker that is stopped or unavailable (its past executions keep their history, without the link). */
export async function removeWorker(sequelize: Sequelize, id: string): Promise<WorkerResult> {
  const worker = await findWorker(sequelize, id);
  if (!worker) return { worker: null, errors: [notFound('id', 'worker', id)] };
  if (worker.status !== WorkerStatus.Stopped && worker.status !== WorkerStatus.Unavailable) {
    return {
      worker: null,
      errors: [
        { field: 'id', message: `worker "${worker.name}" is ${worker.status}: drain and stop it before removing it` },
      ],
    };
  }
  await sequelize.transaction(async (transaction) => {
    await getModels(sequelize).Worker.destroy({ where: { id }, transaction });
    await notifyChange(sequelize, { type: 'workers', workerId: id }, transaction);
  });
  return { worker, errors: [] };
}
