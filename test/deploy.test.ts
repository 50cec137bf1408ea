/**
 * The deployment files, checked without a Docker engine: every compose file combination the scripts use validates
 * with `docker-compose config`, secrets are mandatory, the shell scripts are shellcheck-clean, and each compose
 * script's `--dry-run` names the right files and project. Needs Debian's docker-compose and shellcheck
 * (scripts/setup.sh installs them); the tests install nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const COMPOSE_DIR = path.join(ROOT, 'compose');

const CORE = ['docker-compose.yml'];
const BASE = [...CORE, 'docker-compose.coordinator.yml'];
const FULL = [...BASE, 'docker-compose.worker.yml'];

/** Secrets the compose files require: each one missing must stop `config` with its name. */
const SECRETS = [
  'TILEFLOW_DB_PASSWORD',
  'TILEFLOW_REDIS_PASSWORD',
  'TILEFLOW_SESSION_SECRET',
  'TILEFLOW_WORKER_TOKEN',
  'TILEFLOW_ADMIN_PASSWORD',
] as const;

const ACQUISITION_ROOT = '/srv/test-acquisitions';
const TASK_ROOT = '/srv/test-tasks';

/** Every variable the compose files require, with test values; nothing else from the caller's environment. */
function composeEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: os.tmpdir(),
    TILEFLOW_DB_PASSWORD: 'test-db-password',
    TILEFLOW_REDIS_PASSWORD: 'test-redis-password',
    TILEFLOW_SESSION_SECRET: 'test-session-secret-0123456789abcdef',
    TILEFLOW_WORKER_TOKEN: 'test-worker-token-0123456789abcdef',
    TILEFLOW_ADMIN_PASSWORD: 'test-admin-password',
    TILEFLOW_ACQUISITION_ROOT: ACQUISITION_ROOT,
    TILEFLOW_TASK_ROOT: TASK_ROOT,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let emptyEnvFile: string;
let sandbox: string;

/**
 * `docker-compose config` on files of compose/. `--env-file` points at an empty file so that a compose/.env on a
 * developer's machine cannot fill in a variable the test leaves out.
 */
function composeConfig(files: string[], env: NodeJS.ProcessEnv, quiet: boolean): Promise<Run> {
  const args = ['--env-file', emptyEnvFile, '--project-name', 'tileflowtest'];
  for (const f of files) args.push('--file', path.join(COMPOSE_DIR, f));
  args.push('config');
  if (quiet) args.push('-q');
  return run('docker-compose', args, env);
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  environment?: Record<string, string | null>;
  ports?: string[];
  volumes?: string[];
  networks?: Record<string, unknown>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  container_name?: string;
  user?: string;
  init?: boolean;
  logging?: { driver?: string; options?: Record<string, string> };
}

interface ComposeModel {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, unknown>;
}

/** The merged model, parsed by python3-yaml (a dependency of Debian's docker-compose, so it is there too). */
async function composeModel(files: string[], env: NodeJS.ProcessEnv): Promise<ComposeModel> {
  const r = await composeConfig(files, env, false);
  expect(r.stderr, 'docker-compose config').not.toMatch(/ERROR/);
  expect(r.status).toBe(0);
  const json = spawnSync(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: r.stdout, encoding: 'utf8' },
  );
  expect(json.status, json.stderr).toBe(0);
  return JSON.parse(json.stdout) as ComposeModel;
}

/** Reads `--dry-run` output back into an argv: one single-quoted word a line, `'\''` for a quote inside. */
function parseArgv(out: string): string[] {
  const lines = out.split('\n').filter((l) => l !== '');
  for (const l of lines) expect(l).toMatch(/^'(?:[^']|'\\'')*'$/);
  return lines.map((l) => l.slice(1, -1).replaceAll("'\\''", "'"));
}

interface ComposeCall {
  project: string;
  files: string[];
  /** Everything after the global options: the subcommand and its arguments. */
  rest: string[];
}

function parseComposeCall(argv: string[]): ComposeCall {
  expect(argv[0]).toBe('docker-compose');
  let i = 1;
  let project = '';
  const files: string[] = [];
  while (i < argv.length && argv[i].startsWith('--')) {
    if (argv[i] === '--project-name') project = argv[i + 1];
    else if (argv[i] === '--file') files.push(argv[i + 1]);
    else break;
    i += 2;
  }
  return { project, files, rest: argv.slice(i) };
}

/**
 * What each compose script runs: its files and its docker-compose subcommand (`rest`), to which the script appends
 * its other arguments, or `defaults` when there are none.
 */
const SCRIPTS: Record<string, { pre: string[]; files: string[]; rest: string[]; defaults?: string[] }> = {
  'up.sh': { pre: [], files: FULL, rest: ['up', '-d'] },
  'base.sh': { pre: [], files: BASE, rest: ['up', '-d'] },
  'dev.sh': { pre: [], files: CORE, rest: ['up', '-d'] },
  'stop.sh': { pre: [], files: FULL, rest: ['stop'] },
  'down.sh': { pre: [], files: FULL, rest: ['down'] },
  'logs.sh': { pre: [], files: FULL, rest: ['logs', '-f'] },
  'migrate.sh': {
    pre: ['--compose'],
    files: BASE,
    rest: ['run', '--rm', '-T', 'migrate', 'node', 'coordinator/dist/db/cli.js'],
    defaults: ['up'],
  },
  'seed.sh': {
    pre: ['--compose'],
    files: BASE,
    rest: [
      'exec',
      '-T',
      '-e',
      `TILEFLOW_DEMO_TASKS=${TASK_ROOT}/demo`,
      '-e',
      `TILEFLOW_DEMO_ACQUISITION=${ACQUISITION_ROOT}/demo`,
      '-e',
      `TILEFLOW_DEMO_OUTPUT=${ACQUISITION_ROOT}/demo/output`,
      'api',
      'node',
      'coordinator/dist/db/seeds/cli.js',
    ],
  },
};

beforeAll(() => {
  for (const tool of ['docker-compose', 'shellcheck', 'python3']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
    expect(found, `${tool} is missing: run scripts/setup.sh (npm test does it first)`).toBe(true);
  }
  // The scripts in a sandbox with no .env, so that the developer's .env cannot choose the project name.
  sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'tileflow-deploy-'));
  fs.mkdirSync(path.join(sandbox, 'scripts'));
  fs.copyFileSync(path.join(ROOT, 'scripts', 'lib.sh'), path.join(sandbox, 'scripts', 'lib.sh'));
  for (const s of Object.keys(SCRIPTS)) fs.copyFileSync(path.join(ROOT, s), path.join(sandbox, s));
  emptyEnvFile = path.join(sandbox, 'empty.env');
  fs.writeFileSync(emptyEnvFile, '');
});

afterAll(() => {
  if (sandbox) fs.rmSync(sandbox, { recursive: true, force: true });
});

/** Runs a sandboxed script with only PATH, HOME, the data roots (as .env would give them) and `env`. */
function dryRun(script: string, args: string[], env: Record<string, string | undefined> = {}): Run {
  const full: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: os.tmpdir(),
    TILEFLOW_ACQUISITION_ROOT: ACQUISITION_ROOT,
    TILEFLOW_TASK_ROOT: TASK_ROOT,
    TILEFLOW_DEMO_ACQUISITION: `${ACQUISITION_ROOT}/demo`,
    TILEFLOW_DEMO_TASKS: `${TASK_ROOT}/demo`,
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete full[k];
    else full[k] = v;
  }
  const r = spawnSync('bash', [path.join(sandbox, script), ...args], { cwd: sandbox, env: full, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// docker-compose and shellcheck take seconds each, more on a busy 2-core machine: generous per-test limits.
describe('compose scripts --dry-run', { timeout: 60_000 }, () => {
  for (const [script, spec] of Object.entries(SCRIPTS)) {
    describe(script, () => {
      const expectedFiles = () => spec.files.map((f) => path.join(sandbox, 'compose', f));
      const call = (args: string[], env: Record<string, string | undefined> = {}): ComposeCall => {
        const r = dryRun(script, [...spec.pre, '--dry-run', ...args], env);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        return parseComposeCall(parseArgv(r.stdout));
      };

      it('uses its compose files and subcommand, with the default project "tileflow"', () => {
        const c = call([]);
        expect(c.files).toEqual(expectedFiles());
        expect(c.rest).toEqual([...spec.rest, ...(spec.defaults ?? [])]);
        expect(c.project).toBe('tileflow');
      });

      it('applies the default when TILEFLOW_COMPOSE_PROJECT is empty', () => {
        expect(call([], { TILEFLOW_COMPOSE_PROJECT: '' }).project).toBe('tileflow');
      });

      it('takes the project from TILEFLOW_COMPOSE_PROJECT', () => {
        expect(call([], { TILEFLOW_COMPOSE_PROJECT: 'from-env' }).project).toBe('from-env');
      });

      it('takes the project from -p, --project and --project=, before the environment', () => {
        const env = { TILEFLOW_COMPOSE_PROJECT: 'from-env' };
        expect(call(['-p', 'short-flag'], env).project).toBe('short-flag');
        expect(call(['--project', 'long-flag'], env).project).toBe('long-flag');
        expect(call(['--project=equals'], env).project).toBe('equals');
      });

      it('passes other arguments through, in order and unsplit', () => {
        const c = call(['-p', 'x', 'first', "it's two words", '--', '-p', 'y']);
        expect(c.project).toBe('x');
        expect(c.files).toEqual(expectedFiles());
        expect(c.rest).toEqual([...spec.rest, 'first', "it's two words", '-p', 'y']);
      });

      it('refuses a project name docker-compose would rewrite', () => {
        const r = dryRun(script, [...spec.pre, '-p', 'Not Valid', '--dry-run']);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/project name 'Not Valid'/);
        expect(r.stdout).toBe('');
      });
    });
  }

  it("seed.sh --compose hands the seed this shell's roots, and refuses without them", () => {
    const r = dryRun('seed.sh', ['--compose', '--dry-run'], { TILEFLOW_DEMO_OUTPUT: '/srv/elsewhere' });
    expect(r.status).toBe(0);
    expect(parseArgv(r.stdout)).toContain('TILEFLOW_DEMO_OUTPUT=/srv/elsewhere');
    for (const name of ['TILEFLOW_DEMO_TASKS', 'TILEFLOW_DEMO_ACQUISITION']) {
      const missing = dryRun('seed.sh', ['--compose', '--dry-run'], { [name]: undefined });
      expect(missing.status, name).not.toBe(0);
      expect(missing.stderr).toContain(`${name} is not set`);
      expect(missing.stdout).toBe('');
    }
  });

  it('seed.sh runs the seed CLI natively without --compose', () => {
    const r = dryRun('seed.sh', ['--dry-run', 'extra']);
    expect(r.status).toBe(0);
    expect(parseArgv(r.stdout)).toEqual([
      'node',
      path.join(sandbox, 'coordinator', 'dist', 'db', 'seeds', 'cli.js'),
      'extra',
    ]);
  });
});

describe('docker-compose config', { timeout: 60_000 }, () => {
  it('validates every file combination the scripts use', async () => {
    const combos = new Map<string, string[]>();
    for (const [script, spec] of Object.entries(SCRIPTS)) {
      const r = dryRun(script, [...spec.pre, '--dry-run']);
      expect(r.status).toBe(0);
      const files = parseComposeCall(parseArgv(r.stdout)).files.map((f) =>
        path.relative(path.join(sandbox, 'compose'), f),
      );
      combos.set(files.join(' '), files);
    }
    expect([...combos.values()].sort()).toEqual([BASE, CORE, FULL].sort());
    const results = await Promise.all([...combos.values()].map((files) => composeConfig(files, composeEnv(), true)));
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('stops with the variable named when a secret or a data root is missing', async () => {
    const required = [...SECRETS, 'TILEFLOW_ACQUISITION_ROOT', 'TILEFLOW_TASK_ROOT'];
    const results = await Promise.all(
      required.map((name) => composeConfig(FULL, composeEnv({ [name]: undefined }), true)),
    );
    results.forEach((r, i) => {
      expect(r.status, required[i]).not.toBe(0);
      expect(r.stderr).toContain(`${required[i]} is required`);
    });
    // An empty value counts as missing too (`:?`), as an empty line in .env would be.
    const empty = await composeConfig(CORE, composeEnv({ TILEFLOW_DB_PASSWORD: '' }), true);
    expect(empty.status).not.toBe(0);
    expect(empty.stderr).toContain('TILEFLOW_DB_PASSWORD is required');
  });

  it('core services: healthchecks, named volumes, the back network, ports on loopback, Redis without eviction', async () => {
    const m = await composeModel(CORE, composeEnv());
    expect(Object.keys(m.services).sort()).toEqual(['influxdb', 'postgres', 'redis']);
    expect(m.services.postgres.image).toMatch(/^postgres:15/);
    expect(m.services.redis.image).toMatch(/^redis:7/);
    expect(m.services.influxdb.image).toMatch(/^influxdb:1\.8/);
    for (const [name, s] of Object.entries(m.services)) {
      expect(s.healthcheck?.test?.[0], name).toBe('CMD-SHELL');
      expect(Object.keys(s.networks ?? {}), name).toEqual(['back']);
      const named = (s.volumes ?? []).map((v) => v.split(':')[0]);
      expect(named.length, name).toBeGreaterThan(0);
      for (const v of named) expect(Object.keys(m.volumes ?? {}), name).toContain(v);
      for (const p of s.ports ?? []) expect(p, name).toMatch(/^127\.0\.0\.1:/);
    }
    expect(String(m.services.redis.command)).toContain('--maxmemory-policy noeviction');
    expect(m.services.redis.environment?.REDISCLI_AUTH).toBe('test-redis-password');
    expect(m.services.postgres.environment?.POSTGRES_PASSWORD).toBe('test-db-password');
  });

  it('TILEFLOW_COMPOSE_BIND_ADDRESS opens the API, the client and Redis, never PostgreSQL or InfluxDB', async () => {
    const m = await composeModel(FULL, composeEnv({ TILEFLOW_COMPOSE_BIND_ADDRESS: '10.1.2.3' }));
    const hosts = (name: string) => (m.services[name].ports ?? []).map((p) => p.split(':')[0]);
    for (const open of ['api', 'client', 'redis']) expect(hosts(open), open).toEqual(['10.1.2.3']);
    for (const closed of ['postgres', 'influxdb']) expect(hosts(closed), closed).toEqual(['127.0.0.1']);
    const d = await composeModel(FULL, composeEnv());
    for (const s of Object.values(d.services)) for (const p of s.ports ?? []) expect(p).toMatch(/^127\.0\.0\.1:/);
  });

  it('coordinator: api and scheduler wait for the one-shot migrate service, in the services the containers reach', async () => {
    const m = await composeModel(BASE, composeEnv());
    const s = m.services;
    for (const name of ['api', 'scheduler']) {
      expect(s[name].depends_on?.migrate?.condition, name).toBe('service_completed_successfully');
      expect(s[name].depends_on?.postgres?.condition, name).toBe('service_healthy');
      expect(s[name].environment?.TILEFLOW_DB_HOST, name).toBe('postgres');
      expect(s[name].environment?.TILEFLOW_REDIS_HOST, name).toBe('redis');
      expect(s[name].environment?.TILEFLOW_INFLUX_HOST, name).toBe('influxdb');
      expect(s[name].environment?.TILEFLOW_SESSION_SECRET, name).toBe('test-session-secret-0123456789abcdef');
      expect(s[name].volumes, name).toEqual(
        expect.arrayContaining([`${ACQUISITION_ROOT}:${ACQUISITION_ROOT}:rw`, `${TASK_ROOT}:${TASK_ROOT}:rw`]),
      );
    }
    expect(s.api.command).toEqual(['node', 'coordinator/dist/main.js', 'api']);
    expect(s.scheduler.command).toEqual(['node', 'coordinator/dist/main.js', 'scheduler']);
    expect(s.migrate.command).toEqual(['node', 'coordinator/dist/db/cli.js', 'up']);
    expect(s.migrate.healthcheck?.test).toEqual(['NONE']);
    // The migrate service gets the database and nothing else secret.
    expect(s.migrate.environment?.TILEFLOW_SESSION_SECRET).toBeUndefined();
    expect(s.client.depends_on?.api?.condition).toBe('service_healthy');
    expect(s.client.environment?.TILEFLOW_API_UPSTREAM).toBe('api:4700');
    expect(s.api.image).toBe(s.scheduler.image);
    expect(s.api.image).toBe(s.migrate.image);
  });

  it('worker: scalable, same-path data mounts, talks to the api and Redis by service name', async () => {
    const m = await composeModel(FULL, composeEnv());
    const w = m.services.worker;
    expect(w.container_name).toBeUndefined();
    expect(w.ports ?? []).toEqual([]);
    expect(w.environment?.TILEFLOW_WORKER_NAME).toBeUndefined();
    expect(w.environment?.TILEFLOW_URL).toBe('http://api:4700');
    expect(w.environment?.TILEFLOW_WORKER_TOKEN).toBe('test-worker-token-0123456789abcdef');
    expect(w.environment?.TILEFLOW_REDIS_HOST).toBe('redis');
    expect(w.volumes).toEqual(
      expect.arrayContaining([`${ACQUISITION_ROOT}:${ACQUISITION_ROOT}:rw`, `${TASK_ROOT}:${TASK_ROOT}:rw`]),
    );
    expect(w.init).toBe(true);
  });

  it('every service rotates its logs', async () => {
    const m = await composeModel(FULL, composeEnv());
    expect(Object.keys(m.services).length).toBe(8);
    for (const [name, s] of Object.entries(m.services)) {
      expect(s.logging?.driver, name).toBe('json-file');
      expect(s.logging?.options?.['max-size'], name).toBeTruthy();
      expect(s.logging?.options?.['max-file'], name).toBeTruthy();
    }
  });

  it('builds our three images from the repository root with their Dockerfiles', async () => {
    const m = await composeModel(FULL, composeEnv());
    const builds = Object.entries(m.services).filter(([, s]) => s.build);
    expect(builds.map(([n]) => n).sort()).toEqual(['api', 'client', 'migrate', 'scheduler', 'worker']);
    for (const [name, s] of builds) {
      expect(s.build?.context, name).toBe(ROOT);
      expect(fs.existsSync(path.join(ROOT, s.build!.dockerfile)), name).toBe(true);
    }
  });
});

describe('Dockerfiles', () => {
  for (const file of ['coordinator/Dockerfile', 'worker/Dockerfile', 'client/Dockerfile']) {
    it(`${file}: multi-stage, non-root, with a HEALTHCHECK, copying only what exists`, () => {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      const lines = text.replace(/\\\n/g, ' ').split('\n');
      const froms = lines.filter((l) => /^FROM /.test(l));
      expect(froms.length).toBeGreaterThanOrEqual(2);
      const last = lines.lastIndexOf(froms[froms.length - 1]);
      const runtime = lines.slice(last);
      expect(runtime.find((l) => /^USER /.test(l))).toMatch(/^USER (node|nginx)$/);
      expect(runtime.some((l) => /^HEALTHCHECK /.test(l))).toBe(true);
      // The runtime stage gets built files from earlier stages, never the source tree.
      for (const l of runtime.filter((x) => /^COPY /.test(x))) {
        if (l.includes('--from=')) continue;
        expect(l).toMatch(/^COPY compose\/client\//);
      }
      // Plain COPY sources must exist in the build context (a missing one fails the build).
      for (const l of lines.filter((x) => /^COPY /.test(x) && !x.includes('--from='))) {
        const words = l.split(/\s+/).slice(1, -1);
        for (const src of words) expect(fs.existsSync(path.join(ROOT, src)), `${file}: ${src}`).toBe(true);
      }
    });
  }

  it('worker/Dockerfile: the runtime has python3 and the launcher the local executor spawns scripts with', () => {
    const text = fs.readFileSync(path.join(ROOT, 'worker', 'Dockerfile'), 'utf8');
    const runtime = text.slice(text.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/apt-get install [^\n]*python3/);
    expect(runtime).toContain('COPY --from=build /app/worker/launcher worker/launcher/');
    expect(fs.existsSync(path.join(ROOT, 'worker', 'launcher', 'launcher.py'))).toBe(true);
  });

  it('.dockerignore keeps secrets, data and builds out of the context but not the nginx files', () => {
    const entries = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const e of ['.env', '.data', '.git', '**/node_modules', '**/dist']) expect(entries).toContain(e);
    expect(entries.some((e) => e.startsWith('compose'))).toBe(false);
  });
});

describe('shellcheck', { timeout: 60_000 }, () => {
  it('passes on every shell script of the repository', () => {
    const listed = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.sh'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(listed.status, listed.stderr).toBe(0);
    const files = listed.stdout
      .split('\n')
      .filter(Boolean)
      .filter((f) => !f.includes('node_modules/'));
    if (fs.existsSync(path.join(ROOT, '.ci', 'run'))) files.push('.ci/run');
    const existing = [...new Set(files)].filter((f) => fs.existsSync(path.join(ROOT, f)));
    for (const s of [...Object.keys(SCRIPTS), 'scripts/lib.sh']) expect(existing).toContain(s);
    const r = spawnSync('shellcheck', ['-x', ...existing], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('scripts start with the bash shebang and strict mode', () => {
    for (const s of Object.keys(SCRIPTS)) {
      const text = fs.readFileSync(path.join(ROOT, s), 'utf8');
      expect(text.startsWith('#!/usr/bin/env bash\n'), s).toBe(true);
      expect(text, s).toContain('\nset -euo pipefail\n');
      expect(text, s).toContain('source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"');
    }
  });
});
