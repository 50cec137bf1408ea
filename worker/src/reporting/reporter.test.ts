import { describe, expect, it } from 'vitest';
import { ExecutionStatus, type ExecutionReport } from '@tileflow/shared';
import type { CoordinatorApi } from './api.js';
import { createReporter } from './reporter.js';

/** A coordinator that fails the first `failures` calls, then records every batch and refuses the given ids. */
function coordinator(failures: number, refuse: string[] = []) {
  const batches: ExecutionReport[][] = [];
  let calls = 0;
  const api: CoordinatorApi = {
    register: () => Promise.reject(new Error('unused')),
    heartbeat: () => Promise.reject(new Error('unused')),
    async report(_session, reports) {
      calls++;
      if (calls <= failures) throw new Error('coordinator down');
      batches.push(reports);
      return {
        applied: reports.length,
        rejected: reports.map((r) => r.executionId).filter((id) => refuse.includes(id)),
      };
    },
  };
  return { api, batches };
}

const report = (id: string, status: ExecutionStatus): ExecutionReport => ({
  executionId: id,
  status,
  at: new Date().toISOString(),
});

describe('reporter', () => {
  it('retries until the coordinator answers and loses nothing, in order', async () => {
    const c = coordinator(3);
    const r = createReporter(c.api, 's', { flushMs: 1 });
    r.add(report('a', ExecutionStatus.Succeeded));
    r.add(report('b', ExecutionStatus.Failed));
    await r.flush();
    await r.close();
    expect(c.batches.flat().map((x) => x.executionId)).toEqual(['a', 'b']);
    expect(r.pending()).toBe(0);
  });

  it('returns the claims the coordinator refused', async () => {
    const c = coordinator(0, ['x']);
    const r = createReporter(c.api, 's');
    const refused = await r.claim([report('x', ExecutionStatus.Submitted), report('y', ExecutionStatus.Submitted)]);
    expect([...refused]).toEqual(['x']);
    await r.close();
  });

  it('drops a pending RUNNING report when the final one arrives', async () => {
    const c = coordinator(0);
    const r = createReporter(c.api, 's', { flushMs: 1000 });
    r.add(report('a', ExecutionStatus.Running));
    r.add(report('a', ExecutionStatus.Succeeded));
    await r.flush();
    expect(c.batches.flat().map((x) => x.status)).toEqual([ExecutionStatus.Succeeded]);
    await r.close();
  });
});

describe('reporter shutdown', () => {
  it('gives up after the timeout when the coordinator is gone, instead of hanging the daemon', async () => {
    const c = coordinator(Number.POSITIVE_INFINITY);
    const r = createReporter(c.api, 's', { flushMs: 1 });
    r.add(report('a', ExecutionStatus.Succeeded));
    // Without the bound this never resolves and the test times out.
    await r.close(300);
    expect(r.pending()).toBe(1);
    expect(c.batches).toEqual([]);
  });
});
