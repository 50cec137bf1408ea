import { initialLiveState, liveReducer, type LiveAction, type LiveState } from './live';

/** A tiny external store around the live reducer, read by components through useSyncExternalStore. */
export interface LiveStore {
  getState(): LiveState;
  dispatch(action: LiveAction): void;
  subscribe(listener: () => void): () => void;
}

export function createLiveStore(initial: LiveState = initialLiveState): LiveStore {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(action) {
      const next = liveReducer(state, action);
      if (next === state) return;
      state = next;
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
