import type { Sequelize, Transaction } from 'sequelize';

/**
 * Change notices between the coordinator's processes (API, scheduler, input watchers), over PostgreSQL
 * LISTEN/NOTIFY so that they work whether those parts run in one process or several. A notice only says *what*
 * changed; the receiver reads the truth from the tables. Sent inside the writing transaction, a notice is
 * delivered only if that transaction commits.
 */
export const CHANGE_CHANNEL = 'tileflow_changes';

export type ChangeNotice =
  /** Tiles of a project were added, changed or became complete (input source). */
  | { type: 'tiles'; projectId: string; changed: number; planes?: Array<number | null> }
  /** Tile states of stages changed (dispatch, start, completion, resubmit, cancel). */
  | {
      type: 'states';
      projectId: string;
      stageIds: string[];
      planes?: Array<{ stageId: string; z: number | null }>;
      /** Set by the scheduler on its own dispatch notices, which give it nothing new to do. */
      origin?: 'scheduler';
    }
  /** Stages, their processing flags or the project changed: the scheduler reloads its view. */
  | { type: 'topology'; projectId: string }
  /** A worker's desired state or load changed. */
  | { type: 'workers'; workerId?: string };

/** NOTIFY payloads are limited to 8000 bytes; plane lists are trimmed past this many entries. */
const MAX_PLANES = 200;

export async function notifyChange(
  sequelize: Sequelize,
  notice: ChangeNotice,
  transaction?: Transaction,
): Promise<void> {
  const trimmed =
    'planes' in notice && notice.planes && notice.planes.length > MAX_PLANES
      ? { ...notice, planes: undefined }
      : notice;
  await sequelize.query('SELECT pg_notify(:channel, :payload)', {
    replacements: { channel: CHANGE_CHANNEL, payload: JSON.stringify(trimmed) },
    transaction,
  });
}
