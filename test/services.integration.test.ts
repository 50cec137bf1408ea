/**
 * scripts/services.sh against the real services. The shared instance (started by the global setup and used by every
 * other test file) is only started again and queried, never stopped; stop, restart and stale-state recovery run on a
 * second instance with its own data folder and ports.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryTypes } from 'sequelize';
import { createSequelize } from '../coordinator/src/db/connection.js';
import type { ServicesConfig } from '@tileflow/shared';
import { baseServicesConfig, slurmConf } from './helpers.js';
import { influxClient, redisClient } from './db.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCRIPT = path.join(ROOT, 'scripts', 'services.sh');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const services = (args: string[], env?: NodeJS.ProcessEnv) => run('bash', [SCRIPT, ...args], env);

/** Polls until `check` holds; fails with `what` after `seconds`. A bound, not a timing assertion. */
async function eventually(what: string, seconds: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Listener {
  address: string;
  port: number;
  pids: number[];
}

/** Every listening TCP and UDP socket, with the pids holding it (ss -ltunp). */
async function listeners(): Promise<Listener[]> {
  const { code, stdout, stderr } = await run('ss', ['-Hltunp']);
  if (code !== 0) throw new Error(`ss failed: ${stderr}`);
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const local = line.trim().split(/\s+/)[4];
      const i = local.lastIndexOf(':');
      return {
        address: local.slice(0, i),
        port: Number(local.slice(i + 1)),
        pids: [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])),
      };
    });
}

/** Asserts that the processes listening on `ports` listen on 127.0.0.1 only, on every socket they hold. */
async function expectLoopbackOnly(ports: number[]): Promise<void> {
  const all = await listeners();
  const pids = new Set<number>();
  for (const port of ports) {
    const onPort = all.filter((l) => l.port === port);
    expect(onPort.length, `something listens on port ${port}`).toBeGreaterThan(0);
    for (const l of onPort) {
      expect(l.address, `port ${port}`).toBe('127.0.0.1');
      l.pids.forEach((p) => pids.add(p));
    }
  }
  expect(pids.size).toBeGreaterThan(0);
  for (const l of all.filter((x) => x.pids.some((p) => pids.has(p)))) {
    expect(`${l.address}:${l.port} (pids ${l.pids.join(',')})`).toMatch(/^127\.0\.0\.1:/);
  }
}

async function pgQuery<T extends object>(db: ServicesConfig['db'], sql: string): Promise<T[]> {
  const sequelize = createSequelize(db, undefined, 1);
  try {
    return await sequelize.query<T>(sql, { type: QueryTypes.SELECT });
  } finally {
    await sequelize.close();
  }
}

async function redisCall(redis: ServicesConfig['redis'], ...args: [string, ...string[]]): Promise<unknown> {
  const client = redisClient(redis);
  try {
    await client.connect();
    return await client.call(...args);
  } finally {
    client.disconnect();
  }
}

async function influxPingVersion(influx: ServicesConfig['influx']): Promise<string | undefined> {
  const [host] = await influxClient(influx).ping(5000);
  return host.online ? host.version : undefined;
}

/** A TCP port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function processGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return true;
  }
}

/** `pid` and all its descendants. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const tree: number[] = [];
  const walk = (p: number) => {
    tree.push(p);
    (children.get(p) ?? []).forEach(walk);
  };
  walk(pid);
  return tree;
}

describe('the shared instance', () => {
  const config = baseServicesConfig();

  it('a second start is a no-op and every service still answers', async () => {
    const again = await services(['start', 'pg', 'redis', 'influx']);
    expect(again.code, again.stderr).toBe(0);
    for (const name of ['pg', 'redis', 'influx']) {
      // "already up", or (another checkout's instance on the port) "answers ... using it": never a new start.
      expect(again.stderr).toMatch(new RegExp(`${name}: (already up|127\\.0\\.0\\.1:\\d+ answers)`));
    }
    expect(again.stderr).not.toMatch(/starting|initdb/);

    const [row] = await pgQuery<{ one: number }>(config.db, 'SELECT 1 AS one');
    expect(row.one).toBe(1);
    expect(await redisCall(config.redis, 'PING')).toBe('PONG');
    expect(await influxPingVersion(config.influx)).toMatch(/^1\./);
  });

  it('status prints one up line per service and exits 0', async () => {
    const status = await services(['status', 'pg', 'redis', 'influx']);
    expect(status.code, status.stdout).toBe(0);
    const lines = status.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(':')[0])).toEqual(['pg', 'redis', 'influx']);
    for (const line of lines) expect(line).toMatch(/^\w+: up /);
  });

  it('runs PostgreSQL 15 and Redis with maxmemory-policy noeviction', async () => {
    const [version] = await pgQuery<{ server_version: string }>(config.db, 'SHOW server_version');
    expect(version.server_version).toMatch(/^15\./);
    expect(await redisCall(config.redis, 'CONFIG', 'GET', 'maxmemory-policy')).toEqual([
      'maxmemory-policy',
      'noeviction',
    ]);
  });

  it('creates the InfluxDB database', async () => {
    expect(await influxClient(config.influx).getDatabaseNames()).toContain(config.influx.database);
  });

  it('listens on 127.0.0.1 only', async () => {
    const ports = [config.db.port, config.redis.port, config.influx.port];
    if (slurmConf()) {
      const conf = fs.readFileSync(slurmConf()!, 'utf8');
      for (const key of ['SlurmctldPort', 'SlurmdPort']) {
        ports.push(Number(new RegExp(`^${key}=(\\d+)`, 'm').exec(conf)?.[1]));
      }
    }
    await expectLoopbackOnly(ports);
  });
});

describe.runIf(slurmConf() !== null)('the shared SLURM', () => {
  const slurmEnv = { ...process.env, SLURM_CONF: slurmConf() ?? '' };
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tileflow-slurm-test-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('answers scontrol ping and has the node localhost up', async () => {
    const ping = await run('scontrol', ['ping'], slurmEnv);
    expect(ping.stdout).toMatch(/is UP/);
    const node = await run('sinfo', ['-h', '-N', '-n', 'localhost', '-o', '%T'], slurmEnv);
    expect(node.stdout.trim()).toMatch(/^(idle|mixed|allocated|completing)$/);
  });

  it('runs a job to its final state, readable by sacct from the job completion file', async () => {
    const submit = await run(
      'sbatch',
      ['--parsable', '-o', path.join(dir, '%j.out'), '--wrap', 'echo "hello from $SLURM_JOB_ID"; exit 3'],
      slurmEnv,
    );
    expect(submit.code, submit.stderr).toBe(0);
    const jobId = submit.stdout.trim().split(';')[0];
    expect(jobId).toMatch(/^\d+$/);

    let row: string[] = [];
    await eventually(`job ${jobId} in sacct`, 60, async () => {
      const acct = await run('sacct', ['-c', '-P', '-n', '-o', 'jobid,state,exitcode', '-j', jobId], slurmEnv);
      row = acct.stdout.trim().split('|');
      return row[0] === jobId;
    });
    expect(row).toEqual([jobId, 'FAILED', '3:0']);
    expect(fs.readFileSync(path.join(dir, `${jobId}.out`), 'utf8')).toBe(`hello from ${jobId}\n`);
  });
});

describe('a second instance with its own data folder and ports', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let config: ServicesConfig;

  beforeAll(async () => {
    // mkdtemp makes a 0700 folder: the script must let the postgres user in by itself.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tileflow-services-'));
    const [pg, redis, influx, influxRpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
    env = {
      ...process.env,
      TILEFLOW_DATA_DIR: dir,
      TILEFLOW_DB_PORT: String(pg),
      TILEFLOW_REDIS_PORT: String(redis),
      TILEFLOW_INFLUX_PORT: String(influx),
      TILEFLOW_INFLUX_RPC_PORT: String(influxRpc),
    };
    const base = baseServicesConfig();
    config = {
      db: { ...base.db, port: pg },
      redis: { ...base.redis, port: redis },
      influx: { ...base.influx, port: influx },
    };
  });

  afterAll(async () => {
    if (!dir) return;
    await services(['stop', 'pg', 'redis', 'influx'], env);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const answers = async () => {
    const [row] = await pgQuery<{ db: string; who: string }>(
      config.db,
      'SELECT current_database() AS db, current_user AS who',
    );
    expect(row).toEqual({ db: config.db.database, who: config.db.user });
    expect(await redisCall(config.redis, 'PING')).toBe('PONG');
    expect(await influxPingVersion(config.influx)).toMatch(/^1\./);
  };

  it('is down before it is started: status exits non-zero', async () => {
    const status = await services(['status', 'pg', 'redis', 'influx'], env);
    expect(status.code).not.toBe(0);
    expect(status.stdout.trim().split('\n')).toEqual([
      `pg: down (127.0.0.1:${config.db.port})`,
      `redis: down (127.0.0.1:${config.redis.port})`,
      `influx: down (127.0.0.1:${config.influx.port})`,
    ]);
  });

  it('starts from an empty data folder, then a second start is a no-op', async () => {
    const first = await services(['start', 'pg', 'redis', 'influx'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/pg: initdb/);
    expect(fs.existsSync(path.join(dir, 'pg', 'PG_VERSION'))).toBe(true);
    await answers();

    const second = await services(['start', 'pg', 'redis', 'influx'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/pg: already up/);
    expect(second.stderr).toMatch(/redis: already up/);
    expect(second.stderr).toMatch(/influx: already up/);
    expect(second.stderr).not.toMatch(/starting/);

    expect((await services(['status', 'pg', 'redis', 'influx'], env)).code).toBe(0);
    await expectLoopbackOnly([config.db.port, config.redis.port, config.influx.port]);
  });

  it('comes back after its processes were killed (stale pid files and sockets), keeping its data', async () => {
    await pgQuery(config.db, 'CREATE TABLE IF NOT EXISTS survives (id int)');

    const byPort = new Map((await listeners()).map((l) => [l.port, l.pids[0]]));
    const roots = [config.db.port, config.redis.port, config.influx.port].map((p) => byPort.get(p));
    expect(roots.every((p) => typeof p === 'number')).toBe(true);
    const doomed = roots.flatMap((p) => processTree(p!));
    for (const pid of doomed) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone (a postgres child that exited with its parent).
      }
    }
    await eventually('killed services gone', 30, () => doomed.every(processGone));
    expect(fs.existsSync(path.join(dir, 'pg', 'postmaster.pid'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'influx', 'influxd.pid'))).toBe(true);

    const down = await services(['status', 'pg', 'redis', 'influx'], env);
    expect(down.code).not.toBe(0);

    const again = await services(['start', 'pg', 'redis', 'influx'], env);
    expect(again.code, again.stderr).toBe(0);
    await answers();
    const tables = await pgQuery<{ n: string }>(
      config.db,
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'survives'",
    );
    expect(Number(tables[0].n)).toBe(1);
  });

  it('stops cleanly: status exits non-zero and the ports are free', async () => {
    const stop = await services(['stop', 'pg', 'redis', 'influx'], env);
    expect(stop.code, stop.stderr).toBe(0);
    const status = await services(['status', 'pg', 'redis', 'influx'], env);
    expect(status.code).not.toBe(0);
    expect(status.stdout).not.toMatch(/: up/);
    const ports = new Set((await listeners()).map((l) => l.port));
    for (const port of [config.db.port, config.redis.port, config.influx.port]) expect(ports.has(port)).toBe(false);
  });
});
