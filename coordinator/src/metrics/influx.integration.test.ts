/** The metrics writer and reader against a real InfluxDB 1.x, on a database of the test's own. */
import { randomBytes } from 'node:crypto';
import { InfluxDB } from 'influx';
import { afterAll, describe, expect, it } from 'vitest';
import { readServicesConfig } from '@tileflow/shared';
import { createMetrics } from './influx.js';

const config = { ...readServicesConfig().influx, database: `t_metrics_${randomBytes(4).toString('hex')}` };
const admin = new InfluxDB({ host: config.host, port: config.port, username: config.user, password: config.password });

afterAll(async () => {
  await admin.dropDatabase(config.database).catch(() => undefined);
});

describe('metrics', () => {
  it('creates its database on first use and keeps every point, even several in one millisecond', async () => {
    expect(await admin.getDatabaseNames()).not.toContain(config.database);
    const metrics = createMetrics(config);
    expect(await metrics.ping()).toBe(true);
    const at = new Date(Date.now() - 30_000);
    const point = { projectId: 'p', stageId: 's', status: 'succeeded' as const, durationSeconds: 1, at };
    await metrics.writeExecution([point, point, point, point, point]);
    await metrics.writeWorkerLoad([
      { workerId: 'w', name: 'w', localLoad: 1, clusterLoad: 0, localCapacity: 2, clusterCapacity: 0, at },
      { workerId: 'w', name: 'w', localLoad: 2, clusterLoad: 0, localCapacity: 2, clusterCapacity: 0, at },
    ]);
    expect(await admin.getDatabaseNames()).toContain(config.database);
    const points = await metrics.queryStageMetrics('p', { sinceMinutes: 5, bucketSeconds: 300 });
    expect(points.reduce((n, p) => n + p.count, 0)).toBe(5);
    const load = await admin.query<{ n: number }>('SELECT count("local_load") AS n FROM worker_load', {
      database: config.database,
    });
    expect(load[0].n).toBe(2);
  });

  it('answers false to ping when InfluxDB is not there', async () => {
    expect(await createMetrics({ ...config, port: 9 }).ping(500)).toBe(false);
  });
});
