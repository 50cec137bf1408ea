import { describe, expect, it } from 'vitest';
import { EnvReader } from '@tileflow/shared';
import { SlurmError } from './errors.js';
import { clusterArgs, jobEnvironment, readSlurmExecutorOptions, slurmOutputPath, timeLimitMinutes } from './options.js';

describe('clusterArgs', () => {
  it('turns cluster options into one sbatch argument each', () => {
    expect(
      clusterArgs(
        { partition: 'gpu', cpus: 4, memoryMb: 1500.5, timeLimitMinutes: 90, extraArgs: ['--qos=short', '-pdebug'] },
        30,
      ),
    ).toEqual(['--partition=gpu', '--cpus-per-task=4', '--mem=1501M', '--time=90', '--qos=short', '-pdebug']);
    expect(clusterArgs({}, null)).toEqual([]);
  });

  it('takes the time limit from the timeout, rounded up to whole minutes, when none is given', () => {
    expect(timeLimitMinutes({}, 1)).toBe(1);
    expect(timeLimitMinutes({}, 60)).toBe(1);
    expect(timeLimitMinutes({}, 61)).toBe(2);
    expect(timeLimitMinutes({ timeLimitMinutes: 5 }, 6000)).toBe(5);
    expect(timeLimitMinutes({}, null)).toBeNull();
    expect(clusterArgs({}, 125)).toEqual(['--time=3']);
  });

  it.each([
    ['--output=/x', '--output'],
    ['--out=/x', '--output'],
    ['--error=/x', '--error'],
    ['--job-name=x', '--job-name'],
    ['--job=x', '--job-name'],
    ['--chdir=/', '--chdir'],
    ['--array=0-3', '--array'],
    ['--wrap=true', '--wrap'],
    ['-o/x', '-o'],
    ['-e', '-e'],
    ['-Jx', '-J'],
    ['-D/', '-D'],
  ])('refuses %s, which would override %s', (arg, option) => {
    expect(() => clusterArgs({ extraArgs: [arg] }, null)).toThrow(SlurmError);
    expect(() => clusterArgs({ extraArgs: [arg] }, null)).toThrow(option);
  });

  it('refuses bare values (they could be taken for the script) and bad numbers', () => {
    expect(() => clusterArgs({ extraArgs: ['--qos', 'short'] }, null)).toThrow(/"short" is not an option/);
    expect(() => clusterArgs({ extraArgs: ['--'] }, null)).toThrow(/not an option/);
    expect(() => clusterArgs({ cpus: 0 }, null)).toThrow(/cpus/);
    expect(() => clusterArgs({ memoryMb: -1 }, null)).toThrow(/memoryMb/);
  });
});

describe('slurmOutputPath', () => {
  it('escapes SLURM’s pattern character and gives up on backslashes', () => {
    expect(slurmOutputPath('/logs/a.out')).toBe('/logs/a.out');
    expect(slurmOutputPath('/logs/100%j/a.out')).toBe('/logs/100%%j/a.out');
    expect(slurmOutputPath('/logs/back\\slash/a.out')).toBeNull();
  });
});

describe('jobEnvironment', () => {
  it('keeps secrets out of what jobs (and the controller’s state files) receive', () => {
    const env = jobEnvironment({
      PATH: '/bin',
      SLURM_CONF: '/c',
      TILEFLOW_DB_PASSWORD: 'x',
      TILEFLOW_WORKER_TOKEN: 'y',
      AWS_SECRET_ACCESS_KEY: 'z',
    });
    expect(env).toEqual({ PATH: '/bin', SLURM_CONF: '/c' });
  });
});

describe('readSlurmExecutorOptions', () => {
  it('reads its variables and names a bad one', () => {
    expect(readSlurmExecutorOptions(new EnvReader({}))).toEqual({
      pollSeconds: 2,
      lostAfterPolls: 3,
      arrayTaskLimit: undefined,
    });
    expect(
      readSlurmExecutorOptions(
        new EnvReader({ TILEFLOW_SLURM_POLL_SECONDS: '0.5', TILEFLOW_SLURM_ARRAY_TASK_LIMIT: '10' }),
      ),
    ).toMatchObject({
      pollSeconds: 0.5,
      arrayTaskLimit: 10,
    });
    expect(() => readSlurmExecutorOptions(new EnvReader({ TILEFLOW_SLURM_POLL_SECONDS: 'soon' }))).toThrow(
      /TILEFLOW_SLURM_POLL_SECONDS/,
    );
  });
});
