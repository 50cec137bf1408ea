/**
 * The dispatch queues: one BullMQ queue per stage. They carry only "this execution may be taken"; the execution's
 * state lives in Postgres, so every queue can be dropped and rebuilt from it.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { stageQueueName, type TaskSpec } from '@tileflow/shared';

export interface Queues {
  add(stageId: string, specs: TaskSpec[]): Promise<void>;
  pause(stageId: string): Promise<void>;
  resume(stageId: string): Promise<void>;
  remove(stageId: string, executionIds: string[]): Promise<void>;
  /** Of the given executions, those that have no job in the stage's queue. */
  missing(stageId: string, executionIds: string[]): Promise<string[]>;
  /** Removes a stage's queue and every key of it. */
  drop(stageId: string): Promise<void>;
  close(): Promise<void>;
}

export function createQueues(connection: Redis, prefix: string): Queues {
  const queues = new Map<string, Queue>();
  const queueOf = (stageId: string) => {
    let q = queues.get(stageId);
    if (!q) {
      q = new Queue(stageQueueName(stageId), {
        connection,
        prefix,
        defaultOptions: undefined,
      } as ConstructorParameters<typeof Queue>[1]);
      q.on('error', () => {
        /* connection errors surface on the shared ioredis client; the sweep recovers what was lost */
      });
      queues.set(stageId, q);
    }
    return q;
  };
  return {
    async add(stageId, specs) {
      const q = queueOf(stageId);
      for (let i = 0; i < specs.length; i += 1000) {
        await q.addBulk(
          specs.slice(i, i + 1000).map((spec) => ({
            name: 'tile',
            data: spec,
            opts: { jobId: spec.executionId, removeOnComplete: true, removeOnFail: true },
          })),
        );
      }
    },
    async pause(stageId) {
      await queueOf(stageId).pause();
    },
    async resume(stageId) {
      await queueOf(stageId).resume();
    },
    async remove(stageId, executionIds) {
      const q = queueOf(stageId);
      for (const id of executionIds) await q.remove(id);
    },
    async missing(stageId, executionIds) {
      if (executionIds.length === 0) return [];
      const q = queueOf(stageId);
      const active = q.toKey('active');
      const pipeline = connection.pipeline();
      for (const id of executionIds) {
        pipeline.exists(q.toKey(id));
        pipeline.exists(`${q.toKey(id)}:lock`);
        pipeline.lpos(active, id);
      }
      const answers = (await pipeline.exec()) ?? [];
      const out: string[] = [];
      const stale = connection.pipeline();
      executionIds.forEach((id, i) => {
        const [exists, locked, activePos] = [0, 1, 2].map((k) => answers[i * 3 + k]?.[1]);
        if (exists === 0) out.push(id);
        else if (activePos !== null && activePos !== undefined && locked === 0) {
          // Taken by a worker that died before claiming it: the lock expired and no one will finish it.
          stale.lrem(active, 0, id);
          stale.del(q.toKey(id));
          out.push(id);
        }
      });
      if (stale.length > 0) await stale.exec();
      return out;
    },
    async drop(stageId) {
      const q = queueOf(stageId);
      await q.obliterate({ force: true });
      await q.close();
      queues.delete(stageId);
    },
    async close() {
      await Promise.all([...queues.values()].map((q) => q.close()));
      queues.clear();
    },
  };
}
