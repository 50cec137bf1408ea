import os from 'node:os';
import { EnvReader, parsePathMap, readServicesConfig, type ServicesConfig } from '@tileflow/shared';

/** Everything the worker daemon reads from the environment, parsed once at startup. */
export interface WorkerConfig {
  /** TILEFLOW_URL: the coordinator, e.g. http://127.0.0.1:4700 (required). */
  url: string;
  /** TILEFLOW_WORKER_TOKEN: the token the coordinator expects from workers (required). */
  token: string;
  /** TILEFLOW_WORKER_NAME, default the host name: unique per daemon; a restart under the same name re-attaches. */
  name: string;
  /** TILEFLOW_WORKER_LOCAL_CAPACITY, default 2: work units run at once here (used when the worker is new). */
  localCapacity: number;
  /** TILEFLOW_WORKER_CLUSTER_CAPACITY, default 0: work units submitted at once to the cluster (0 = none). */
  clusterCapacity: number;
  /** TILEFLOW_WORKER_HEARTBEAT_SECONDS, default 1. */
  heartbeatSeconds: number;
  /** TILEFLOW_PATH_MAP: coordinator path prefixes mapped to this host's. */
  pathMap: Array<[string, string]>;
  /** TILEFLOW_SLURM_POLL_SECONDS, default 2: seconds between batched SLURM status queries. */
  slurmPollSeconds: number;
  /** TILEFLOW_KILL_GRACE_SECONDS, default 5: between SIGTERM and SIGKILL. */
  killGraceSeconds: number;
  redis: ServicesConfig['redis'];
}

export function readWorkerConfig(env: EnvReader = new EnvReader()): WorkerConfig {
  return {
    url: env.secret('TILEFLOW_URL', 'set it to the coordinator, e.g. http://127.0.0.1:4700').replace(/\/+$/, ''),
    token: env.secret('TILEFLOW_WORKER_TOKEN'),
    name: env.string('TILEFLOW_WORKER_NAME', os.hostname()),
    localCapacity: env.number('TILEFLOW_WORKER_LOCAL_CAPACITY', 2, 0),
    clusterCapacity: env.number('TILEFLOW_WORKER_CLUSTER_CAPACITY', 0, 0),
    heartbeatSeconds: env.number('TILEFLOW_WORKER_HEARTBEAT_SECONDS', 1, 0.05, 60),
    pathMap: parsePathMap(env.optionalString('TILEFLOW_PATH_MAP')),
    slurmPollSeconds: env.number('TILEFLOW_SLURM_POLL_SECONDS', 2, 0.1, 600),
    killGraceSeconds: env.number('TILEFLOW_KILL_GRACE_SECONDS', 5, 0, 600),
    redis: readServicesConfig(env).redis,
  };
}
