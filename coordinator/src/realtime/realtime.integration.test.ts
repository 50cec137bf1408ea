/**
 * Realtime events over socket.io against real PostgreSQL LISTEN/NOTIFY: a burst of 1,000 tile transitions in about
 * a second reaches a browser-like client as a handful of aggregated messages with the right content; worker,
 * execution and project events; handshake authentication.
 */
import { QueryTypes } from 'sequelize';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ClientToServerEvents,
  ExecutionEvent,
  PlanesChangedEvent,
  ProjectEvent,
  ServerToClientEvents,
  StageCountsEvent,
  WorkerEvent,
} from '@tileflow/shared';
import { createTestDatabase } from '../../../test/helpers.js';
import { notifyChange } from '../db/notify.js';
import { insertLattice, startApiHarness, type ApiHarness } from '../server/test-support.js';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

let h: ApiHarness;
let projectId: string;
let stageId: string;
const sockets: Client[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(token: string | undefined): Client {
  const s: Client = connect(h.url, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false });
  sockets.push(s);
  return s;
}

async function connected(s: Client): Promise<void> {
  if (s.connected) return;
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
}

/** Resolves with the first event that satisfies `match`; rejects after `ms` (a guard against hanging, not a timing check). */
function waitFor<T>(s: Client, event: keyof ServerToClientEvents, match: (e: T) => boolean, ms = 15_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching ${event} event`)), ms);
    const handler = (e: T) => {
      if (!match(e)) return;
      clearTimeout(timer);
      s.off(event, handler as never);
      resolve(e);
    };
    s.on(event, handler as never);
  });
}

beforeAll(async () => {
  h = await startApiHarness(await createTestDatabase());
  const p = await h.gql(`mutation { createProject(input: { name: "rt", rootPath: "/tmp" }) { project { id } } }`);
  projectId = p.data.createProject.project.id;
  const d = await h.gql(
    `mutation { createTaskDefinition(input: { name: "t", script: "/bin/true" }) { definition { id } } }`,
  );
  const s = await h.gql(`mutation($input: CreateStageInput!) { createStage(input: $input) { stage { id } } }`, {
    input: { projectId, name: 's', taskDefinitionId: d.data.createTaskDefinition.definition.id, outputPath: '/tmp/o' },
  });
  stageId = s.data.createStage.stage.id;
  // 10 × 10 tiles on 10 planes.
  await insertLattice(h.sequelize, projectId, { nx: 10, ny: 10, zs: [...Array(10).keys()] });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await h?.close();
});

describe('socket.io handshake', () => {
  it('refuses anonymous clients (anonymous read is off) and the worker token', async () => {
    await expect(connected(open(undefined))).rejects.toThrow(/unauthorized/);
    await expect(connected(open('forged-token'))).rejects.toThrow(/unauthorized/);
    await expect(connected(open(h.workerToken))).rejects.toThrow(/forbidden/);
  });
});

describe('aggregated events', () => {
  it('delivers 1,000 tile transitions in about a second as a few messages with the right content', async () => {
    const s = open(await h.signIn());
    await connected(s);
    const counts: StageCountsEvent[] = [];
    const planes: PlanesChangedEvent[] = [];
    s.on('stageCounts', (e) => counts.push(e));
    s.on('planesChanged', (e) => planes.push(e));
    const snapshot = waitFor<StageCountsEvent>(s, 'stageCounts', () => true);
    s.emit('subscribe', projectId);
    expect((await snapshot).stages).toEqual([
      {
        stageId,
        counts: { incomplete: 1000, waiting: 0, queued: 0, processing: 0, complete: 0, failed: 0, canceled: 0 },
      },
    ]);
    counts.length = 0;

    const tiles = await h.sequelize.query<{ id: string; z: number }>(
      'SELECT id::text AS id, z FROM tiles WHERE project_id = $1 ORDER BY id',
      { bind: [projectId], type: QueryTypes.SELECT },
    );
    expect(tiles).toHaveLength(1000);
    const done = waitFor<StageCountsEvent>(s, 'stageCounts', (e) => e.stages[0].counts.complete === 1000);
    const started = Date.now();
    // Ten batches of 100 transitions, 100 ms apart; each transition commits with its own notice, as the scheduler's
    // single-tile transactions would.
    for (let batch = 0; batch < 10; batch++) {
      const slice = tiles.slice(batch * 100, batch * 100 + 100);
      await h.sequelize.query(
        `INSERT INTO stage_tile_states (stage_id, tile_id, project_id, x, y, z, status)
         SELECT $1, t.id, t.project_id, t.x, t.y, t.z, 'complete' FROM tiles t WHERE t.id = ANY($2::bigint[])`,
        { bind: [stageId, slice.map((t) => t.id)] },
      );
      await Promise.all(
        slice.map((t) =>
          notifyChange(h.sequelize, { type: 'states', projectId, stageIds: [stageId], planes: [{ stageId, z: t.z }] }),
        ),
      );
      await sleep(100);
    }
    const sent = Date.now() - started;
    const last = await done;
    await sleep(600); // let a trailing window arrive, so that it is counted too

    expect(last).toEqual({
      projectId,
      tiles: 1000,
      stages: [
        {
          stageId,
          counts: { incomplete: 0, waiting: 0, queued: 0, processing: 0, complete: 1000, failed: 0, canceled: 0 },
        },
      ],
    });
    // One stageCounts and one planesChanged per 250 ms window at most: a handful, not a thousand.
    const windows = Math.ceil(sent / 250) + 2;
    expect(counts.length).toBeGreaterThan(0);
    expect(counts.length).toBeLessThanOrEqual(windows);
    expect(planes.length).toBeLessThanOrEqual(windows);
    expect(counts.length + planes.length).toBeLessThan(50);
    // Every plane is listed, and the changes add up to the 1,000 transitions.
    const byPlane = new Map<number, number>();
    for (const e of planes) {
      expect(e.projectId).toBe(projectId);
      for (const p of e.planes) {
        expect(p.stageId).toBe(stageId);
        byPlane.set(p.z!, (byPlane.get(p.z!) ?? 0) + p.changes);
      }
    }
    expect([...byPlane.keys()].sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect([...byPlane.values()].reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('sends workers to every client, executions and project changes to the project room', async () => {
    const s = open(await h.signIn());
    await connected(s);
    s.emit('subscribe', projectId);
    await waitFor<StageCountsEvent>(s, 'stageCounts', () => true);

    const workers = waitFor<WorkerEvent[]>(s, 'workers', (e) => e.some((w) => w.name === 'rt-worker'));
    await h.gql(
      `mutation($input: RegisterWorkerInput!) { registerWorker(input: $input) { workerId } }`,
      {
        input: {
          name: 'rt-worker',
          host: 'h',
          version: '1',
          cpus: 1,
          memoryMb: 1,
          localCapacity: 3,
          clusterCapacity: 0,
        },
      },
      h.workerToken,
    );
    expect((await workers).find((w) => w.name === 'rt-worker')).toMatchObject({ status: 'running', localCapacity: 3 });

    const [{ id: tileId }] = await h.sequelize.query<{ id: string }>(
      `SELECT id::text AS id FROM tiles WHERE project_id = $1 ORDER BY id LIMIT 1`,
      { bind: [projectId], type: QueryTypes.SELECT },
    );
    const [{ id: executionId }] = await h.sequelize.query<{ id: string }>(
      `INSERT INTO task_executions (project_id, stage_id, tile_id, task_definition_id, attempt, status, finished_at)
       SELECT project_id, id, $2, task_definition_id, 1, 'failed', now() FROM stages WHERE id = $1 RETURNING id`,
      { bind: [stageId, tileId], type: QueryTypes.SELECT },
    );
    const executions = waitFor<ExecutionEvent[]>(s, 'executions', (e) => e.some((x) => x.executionId === executionId));
    await notifyChange(h.sequelize, { type: 'states', projectId, stageIds: [stageId], planes: [{ stageId, z: 0 }] });
    expect((await executions).find((x) => x.executionId === executionId)).toMatchObject({
      projectId,
      stageId,
      tileId,
      status: 'failed',
    });

    const project = waitFor<ProjectEvent>(s, 'project', (e) => e.isProcessing);
    await h.gql(`mutation($id: ID!) { startProject(id: $id) { errors { field } } }`, { id: projectId });
    expect(await project).toEqual({ projectId, isProcessing: true, inputState: 'unknown', inputMessage: null });
  });

  it('sends project events only to subscribers of that project', async () => {
    const s = open(await h.signIn());
    await connected(s);
    const other = await h.gql(
      `mutation { createProject(input: { name: "rt-other", rootPath: "/tmp" }) { project { id } } }`,
    );
    const otherId = other.data.createProject.project.id;
    const received: string[] = [];
    s.on('stageCounts', (e) => received.push(e.projectId));
    s.emit('subscribe', otherId);
    await waitFor<StageCountsEvent>(s, 'stageCounts', (e) => e.projectId === otherId);
    const marker = waitFor<StageCountsEvent>(s, 'stageCounts', (e) => e.projectId === otherId);
    await notifyChange(h.sequelize, { type: 'states', projectId, stageIds: [stageId] });
    await notifyChange(h.sequelize, { type: 'topology', projectId: otherId });
    await marker;
    expect(received.every((id) => id === otherId)).toBe(true);
    s.emit('unsubscribe', otherId);
  });
});

describe('LISTEN connection', () => {
  it('reconnects after losing its connection and resends the counts of subscribed projects', async () => {
    const s = open(await h.signIn());
    await connected(s);
    s.emit('subscribe', projectId);
    await waitFor<StageCountsEvent>(s, 'stageCounts', () => true);
    // A change without a notice: only the resync after reconnecting can report it.
    await h.sequelize.query(`UPDATE stage_tile_states SET status = 'failed' WHERE stage_id = $1`, { bind: [stageId] });
    const resync = waitFor<StageCountsEvent>(
      s,
      'stageCounts',
      (e) => e.projectId === projectId && e.stages[0].counts.failed === 1000,
    );
    const killed = await h.sequelize.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE application_name = 'tileflow-realtime' AND datname = current_database()`,
      { type: QueryTypes.SELECT },
    );
    expect(killed).toEqual([{ ok: true }]);
    expect((await resync).stages[0].counts).toMatchObject({ failed: 1000, complete: 0 });
    // And notices flow again over the new connection.
    const later = waitFor<PlanesChangedEvent>(s, 'planesChanged', (e) => e.planes.some((p) => p.z === 4));
    await notifyChange(h.sequelize, { type: 'states', projectId, stageIds: [stageId], planes: [{ stageId, z: 4 }] });
    expect((await later).planes).toEqual([{ stageId, z: 4, changes: 1 }]);
  });
});
