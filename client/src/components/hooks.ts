import { useEffect, useRef, useState } from 'react';

/**
 * Calls `refetch` when `revision` moves, at most once per `minIntervalMs` (a burst of pushes becomes one refetch,
 * and the last change is never missed). The first value does not trigger a call: the query already has it.
 */
export function useRefetchOnRevision(revision: number, refetch: () => unknown, minIntervalMs = 1000): void {
  const seen = useRef(revision);
  const last = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const latest = useRef(refetch);
  latest.current = refetch;
  useEffect(() => {
    if (revision === seen.current) return;
    seen.current = revision;
    if (timer.current) return;
    const wait = Math.max(0, last.current + minIntervalMs - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      latest.current();
    }, wait);
  }, [revision, minIntervalMs]);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
}

/** The current time, refreshed every `ms` (for "3 s ago" labels). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
