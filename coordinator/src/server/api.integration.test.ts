/**
 * The API over HTTP against real PostgreSQL and Redis: routes, the web client's static files, GraphQL transport
 * errors, and who may call what (anonymous, viewer, operator, admin, worker token).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../test/helpers.js';
import { getModels } from '../db/models/index.js';
import { startApiHarness, type ApiHarness } from './test-support.js';

let h: ApiHarness;
let clientDir: string;

beforeAll(async () => {
  clientDir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-client-'));
  await fs.mkdir(path.join(clientDir, 'assets'));
  await fs.writeFile(path.join(clientDir, 'index.html'), '<!doctype html><title>Tileflow</title>');
  await fs.writeFile(path.join(clientDir, 'assets', 'app-1234.js'), 'console.log(1)');
  await fs.writeFile(path.join(os.tmpdir(), 'tileflow-outside.txt'), 'secret');
  h = await startApiHarness(await createTestDatabase(), { TILEFLOW_CLIENT_DIR: clientDir });
}, 60_000);

afterAll(async () => {
  await h?.close();
  await fs.rm(clientDir, { recursive: true, force: true });
});

const json = { 'content-type': 'application/json' };

describe('HTTP routes', () => {
  it('answers /healthz from the database and Redis', async () => {
    const res = await fetch(`${h.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, database: true, redis: true });
  });

  it('serves the web client, with index.html for client routes and 404 for missing assets', async () => {
    const index = await fetch(`${h.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toContain('text/html');
    expect(await index.text()).toContain('<title>Tileflow</title>');

    const route = await fetch(`${h.url}/projects/123/stages`);
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('<title>Tileflow</title>');

    const asset = await fetch(`${h.url}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(await asset.text()).toBe('console.log(1)');

    expect((await fetch(`${h.url}/assets/missing.js`)).status).toBe(404);
  });

  it('never serves files outside the client folder', async () => {
    for (const p of [
      '/../tileflow-outside.txt',
      '/%2e%2e/tileflow-outside.txt',
      '/assets/%2e%2e/%2e%2e/tileflow-outside.txt',
    ]) {
      const res = await fetch(`${h.url}${p}`);
      expect(await res.text(), p).not.toContain('secret');
    }
  });

  it('serves GraphQL over GET for queries (CSRF-safe) and refuses other content types', async () => {
    const token = await h.signIn();
    const get = await fetch(`${h.url}/graphql?query=${encodeURIComponent('{ health { database } }')}`, {
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ data: { health: { database: true } } });

    const form = await fetch(`${h.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ query: '{ health { database } }' }),
    });
    expect(form.status).toBe(400);
  });

  it('answers malformed JSON with 400 and a GraphQL error body', async () => {
    const res = await fetch(`${h.url}/graphql`, { method: 'POST', headers: json, body: '{"query": ' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: unknown[] }).errors).toHaveLength(1);
  });
});

describe('GraphQL errors', () => {
  it('keeps wrong argument types as GraphQL validation errors', async () => {
    const r = await h.gql('{ projects(includeArchived: "yes") { id } }');
    expect(r.status).toBe(400);
    expect(r.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(r.errors?.[0].message).toMatch(/Boolean/);

    const missing = await h.gql('mutation { createProject(input: { name: "x" }) { errors { field } } }');
    expect(missing.status).toBe(400);
    expect(missing.errors?.[0].message).toMatch(/rootPath/);

    const badEnum = await h.gql('{ stage(id: "x") { tiles(status: DONE) { total } } }');
    expect(badEnum.status).toBe(400);
    expect(badEnum.errors?.[0].message).toMatch(/DONE/);

    const badVariable = await h.gql('query($z: Int!) { project(id: "p") { plane(z: $z) { z } } }', { z: 'seven' });
    expect(badVariable.status).toBe(400);
    expect(badVariable.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers unknown ids with null, not with an error', async () => {
    const r = await h.gql('{ project(id: "nope") { id } stage(id: "00000000-0000-4000-8000-000000000000") { id } }');
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ project: null, stage: null });
  });
});

describe('authentication and roles', () => {
  let viewer: string;
  let operator: string;

  beforeAll(async () => {
    for (const [username, role] of [
      ['vera', 'VIEWER'],
      ['otto', 'OPERATOR'],
    ] as const) {
      const r = await h.gql(
        'mutation($u: String!, $r: UserRole) { createUser(username: $u, password: "password-1234", role: $r) { user { username role } errors { field message } } }',
        { u: username, r: role },
      );
      expect(r.data.createUser).toEqual({ user: { username, role }, errors: [] });
    }
    viewer = await h.signIn('vera', 'password-1234');
    operator = await h.signIn('otto', 'password-1234');
  });

  it('created the first admin from TILEFLOW_ADMIN_USER/TILEFLOW_ADMIN_PASSWORD, with a hashed password', async () => {
    const row = await getModels(h.sequelize).User.findOne({ where: { username: h.admin.username }, raw: true });
    expect(row?.role).toBe('admin');
    expect(row?.passwordHash).toMatch(/^scrypt\$/);
    expect(row?.passwordHash).not.toContain(h.admin.password);
    const me = await h.gql('{ me { username role } }');
    expect(me.data).toEqual({ me: { username: h.admin.username, role: 'ADMIN' } });
  });

  it('refuses a wrong password with a field error and no token', async () => {
    const r = await h.gql(
      'mutation { signIn(username: "admin", password: "wrong-password") { token user { id } errors { field message } } }',
      {},
      null,
    );
    expect(r.data.signIn).toEqual({
      token: null,
      user: null,
      errors: [{ field: 'password', message: 'unknown user or wrong password' }],
    });
  });

  it('refuses anonymous mutations and queries (anonymous read is off), but answers health and me', async () => {
    const mutation = await h.gql('mutation { startProject(id: "x") { errors { field } } }', {}, null);
    expect(mutation.status).toBe(401);
    expect(mutation.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const query = await h.gql('{ projects { id } }', {}, null);
    expect(query.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    const open = await h.gql('{ health { database } me { id } }', {}, null);
    expect(open.data).toEqual({ health: { database: true }, me: null });
  });

  it('treats a bad or forged token as anonymous', async () => {
    const r = await h.gql('{ projects { id } }', {}, 'eyJhbGciOiJIUzI1NiJ9.e30.invalid');
    expect(r.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('lets viewers read but not mutate', async () => {
    expect((await h.gql('{ projects { id } }', {}, viewer)).errors).toBeUndefined();
    const r = await h.gql('mutation { startProject(id: "x") { errors { field } } }', {}, viewer);
    expect(r.status).toBe(403);
    expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(r.errors?.[0].message).toMatch(/operator or admin/);
  });

  it('lets only admins create users and list them', async () => {
    const r = await h.gql(
      'mutation { createUser(username: "eve", password: "password-1234") { user { id } errors { field } } }',
      {},
      operator,
    );
    expect(r.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await h.gql('{ users { username } }', {}, operator)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const users = await h.gql('{ users { username role } }');
    expect(users.data.users.map((u: { username: string }) => u.username)).toEqual(['admin', 'otto', 'vera']);
  });

  it('answers bad user input with field errors', async () => {
    const r = await h.gql(
      'mutation { createUser(username: "no spaces", password: "short") { user { id } errors { field message } } }',
    );
    expect(r.data.createUser.user).toBeNull();
    expect(r.data.createUser.errors.map((e: { field: string }) => e.field).sort()).toEqual(['password', 'username']);
    const dup = await h.gql(
      'mutation { createUser(username: "otto", password: "password-1234") { errors { field message } } }',
    );
    expect(dup.data.createUser.errors[0]).toMatchObject({
      field: 'username',
      message: expect.stringMatching(/exists/),
    });
  });

  it('lets any user, viewers too, change their own password', async () => {
    const wrong = await h.gql(
      'mutation { changePassword(currentPassword: "nope-nope", newPassword: "another-1234") { user { id } errors { field } } }',
      {},
      viewer,
    );
    expect(wrong.data.changePassword.errors).toEqual([{ field: 'currentPassword' }]);
    const ok = await h.gql(
      'mutation { changePassword(currentPassword: "password-1234", newPassword: "another-1234") { user { username } errors { field } } }',
      {},
      viewer,
    );
    expect(ok.data.changePassword).toEqual({ user: { username: 'vera' }, errors: [] });
    await expect(h.signIn('vera', 'password-1234')).rejects.toThrow(/sign-in of vera failed/);
    expect(await h.signIn('vera', 'another-1234')).toBeTruthy();
  });

  it('lets the worker token call only the worker protocol, and users never', async () => {
    const asWorker = (q: string, v?: Record<string, unknown>) => h.gql(q, v, h.workerToken);
    expect((await asWorker('{ projects { id } }')).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(
      (await asWorker('mutation { startProject(id: "x") { errors { field } } }')).errors?.[0].extensions?.code,
    ).toBe('FORBIDDEN');
    const register = `mutation($input: RegisterWorkerInput!) {
      registerWorker(input: $input) { workerId sessionId directive { status localCapacity } }
    }`;
    const input = {
      name: 'w-auth',
      host: 'h',
      version: '1',
      cpus: 2,
      memoryMb: 1024,
      localCapacity: 2,
      clusterCapacity: 0,
    };
    const asUser = await h.gql(register, { input });
    expect(asUser.status).toBe(403);
    expect(asUser.errors?.[0].message).toMatch(/TILEFLOW_WORKER_TOKEN/);
    expect((await h.gql(register, { input }, null)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const ok = await asWorker(register, { input });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.registerWorker.directive).toEqual({ status: 'RUNNING', localCapacity: 2 });
  });
});

describe('anonymous read', () => {
  it('allows queries but never mutations when TILEFLOW_ANONYMOUS_READ=true', async () => {
    const open = await startApiHarness(await createTestDatabase(), { TILEFLOW_ANONYMOUS_READ: 'true' });
    try {
      const q = await open.gql('{ projects { id } dashboard { projects } }', {}, null);
      expect(q.errors).toBeUndefined();
      expect(q.data.dashboard.projects).toBe(0);
      const m = await open.gql('mutation { pauseProject(id: "x") { errors { field } } }', {}, null);
      expect(m.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      const w = await open.gql('{ projects { id } }', {}, open.workerToken);
      expect(w.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    } finally {
      await open.close();
    }
  }, 60_000);
});
