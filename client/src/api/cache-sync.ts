import type { ApolloCache } from '@apollo/client';
import type { ProjectEvent, WorkerEvent } from '@tileflow/shared';
import { toGql } from './enums';
import { WorkersDocument } from './generated';

/**
 * Writes `project` events into the cached Project (processing flag and input state), in place.
 */
export function applyProjectEvent(cache: ApolloCache, e: ProjectEvent): void {
  const id = cache.identify({ __typename: 'Project', id: e.projectId });
  if (!id) return;
  cache.modify({
    id,
    fields: {
      isProcessing: () => e.isProcessing,
      inputState: () => toGql(e.inputState),
      inputMessage: () => e.inputMessage,
    },
  });
}

/**
 * Writes a `workers` event into the cached Worker objects (status, loads, capacities, heartbeat), in place.
 * Returns true when the event and the cached worker list disagree on which workers exist (the caller refetches
 * the list: a few rows).
 */
export function applyWorkersEvent(cache: ApolloCache, events: readonly WorkerEvent[]): boolean {
  for (const w of events) {
    const id = cache.identify({ __typename: 'Worker', id: w.workerId });
    if (!id) continue;
    cache.modify({
      id,
      fields: {
        status: () => toGql(w.status),
        localLoad: () => w.localLoad,
        localCapacity: () => w.localCapacity,
        clusterLoad: () => w.clusterLoad,
        clusterCapacity: () => w.clusterCapacity,
        lastHeartbeatAt: () => w.lastHeartbeatAt,
      },
    });
  }
  // The Workers and Dashboard queries share the root `workers` field.
  const cached = cache.readQuery({ query: WorkersDocument });
  if (!cached) return false;
  const live = new Set(events.map((w) => w.workerId));
  return cached.workers.length !== live.size || cached.workers.some((w) => !live.has(w.id));
}
