/**
 * Sends execution reports to the coordinator in batches, one call at a time, in order, retrying until it gets
 * through: a coordinator restart delays results but never loses them (the coordinator applies them idempotently).
 */
import { ExecutionStatus, type ExecutionReport } from '@tileflow/shared';
import type { CoordinatorApi } from './api.js';

export interface Reporter {
  /** Queues a report; it is sent within `flushMs` together with whatever else is pending. */
  add(report: ExecutionReport): void;
  /** Sends these submitted-reports now (with anything pending) and returns the ids the coordinator refused. */
  claim(reports: ExecutionReport[]): Promise<Set<string>>;
  /** Sends everything pending now. */
  flush(): Promise<void>;
  pending(): number;
  setSession(sessionId: string): void;
  /**
   * Sends what is pending, trying for at most `timeoutMs` (default 10 s), then stops. What could not be sent is
   * not lost for the system: the coordinator recovers executions of a worker that went silent.
   */
  close(timeoutMs?: number): Promise<void>;
}

export interface ReporterOptions {
  flushMs?: number;
  maxBatch?: number;
  /** Called when a send fails; the batch is retried after a backoff. */
  onError?: (err: Error) => void;
}

export function createReporter(api: CoordinatorApi, sessionId: string, opts: ReporterOptions = {}): Reporter {
  const flushMs = opts.flushMs ?? 50;
  const maxBatch = opts.maxBatch ?? 500;
  let session = sessionId;
  let queue: ExecutionReport[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const waiters: Array<{ ids: Set<string>; resolve: (rejected: Set<string>) => void }> = [];
  const rejectedSoFar = new Set<string>();

  async function sendAll(): Promise<void> {
    let backoff = 100;
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      try {
        const result = await api.report(session, batch);
        result.rejected.forEach((id) => rejectedSoFar.add(id));
        // Remove by identity: add() may have filtered the queue while this batch was in flight.
        const sent = new Set(batch);
        queue = queue.filter((r) => !sent.has(r));
        backoff = 100;
        const stillQueued = new Set(queue.map((r) => r.executionId));
        for (let i = waiters.length - 1; i >= 0; i--) {
          const w = waiters[i];
          if (![...w.ids].some((id) => stillQueued.has(id))) {
            waiters.splice(i, 1);
            w.resolve(new Set([...w.ids].filter((id) => rejectedSoFar.has(id))));
          }
        }
      } catch (err) {
        opts.onError?.(err as Error);
        if (closed) return;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
    if (waiters.length === 0) rejectedSoFar.clear();
  }

  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    inFlight = inFlight.then(sendAll);
    return inFlight;
  }

  return {
    add(report) {
      if (report.status !== ExecutionStatus.Running && report.status !== ExecutionStatus.Submitted) {
        // A final report carries the start time: a RUNNING report still waiting here adds nothing.
        queue = queue.filter((r) => !(r.executionId === report.executionId && r.status === ExecutionStatus.Running));
      }
      queue.push(report);
      if (!timer) timer = setTimeout(() => void flush(), flushMs);
    },
    claim(reports) {
      queue.push(...reports);
      const p = new Promise<Set<string>>((resolve) =>
        waiters.push({ ids: new Set(reports.map((r) => r.executionId)), resolve }),
      );
      void flush();
      return p;
    },
    flush,
    pending: () => queue.length,
    setSession(id) {
      session = id;
    },
    async close(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          closed = true;
          resolve();
        }, timeoutMs);
      });
      await Promise.race([flush(), gaveUp]);
      clearTimeout(timer);
      closed = true;
    },
  };
}
