/**
 * Runs once per `vitest` run, in the main process: starts the project's services (scripts/services.sh, a no-op when
 * they are up), removes what crashed runs left behind, and rebuilds the migrated template database that every test
 * database is cloned from. SLURM is started too unless TILEFLOW_TEST_SLURM=0.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { createTemplate, removeDeadRunsResources, removeTestResources } from './db.js';

const servicesScript = fileURLToPath(new URL('../scripts/services.sh', import.meta.url));

/** The value of `export SLURM_CONF=...` in the output of `services.sh env` (printf %q quoting undone). */
export function parseSlurmConf(output: string): string | null {
  const line = output.split('\n').find((l) => l.startsWith('export SLURM_CONF='));
  if (!line) return null;
  return line.slice('export SLURM_CONF='.length).replace(/\\(.)/g, '$1');
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const withSlurm = process.env.TILEFLOW_TEST_SLURM !== '0';
  const services = ['pg', 'redis', 'influx', ...(withSlurm ? ['slurm'] : [])];
  // Throws (and so fails the run) with the service's log tail on stderr when a service does not come up.
  execFileSync('bash', [servicesScript, 'start', ...services], { stdio: ['ignore', 'inherit', 'inherit'] });

  let slurmConf: string | null = null;
  if (withSlurm) {
    slurmConf = parseSlurmConf(execFileSync('bash', [servicesScript, 'env'], { encoding: 'utf8' }));
    // The project's SLURM, whatever SLURM_CONF the calling shell had: tests submit to it.
    if (slurmConf) process.env.SLURM_CONF = slurmConf;
  }
  project.provide('tileflowTestRun', process.pid);
  project.provide('tileflowSlurmConf', slurmConf);

  await removeDeadRunsResources();
  await createTemplate();

  return async () => {
    await removeTestResources((run) => run === process.pid);
  };
}
