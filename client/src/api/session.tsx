import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import type { ApolloClient } from '@apollo/client';
import { ApolloProvider } from '@apollo/client/react';
import type { TokenStore } from './auth';
import { applyProjectEvent, applyWorkersEvent } from './cache-sync';
import { DashboardDocument, WorkersDocument } from './generated';
import type { ProjectLive, LiveState } from './live';
import { connectRealtime, type Realtime } from './socket';
import type { LiveStore } from './store';

interface SessionContextValue {
  tokens: TokenStore;
  store: LiveStore;
  realtime: { current: Realtime | null };
  /** Rooms wanted by mounted components, joined whenever a connection exists. */
  watch(projectId: string): () => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

function useSessionContext(): SessionContextValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('ApiProvider is missing');
  return ctx;
}

/**
 * Apollo, the session token and the realtime connection. The socket is opened while a token is present and
 * closed (and the cache cleared) on sign-out.
 */
export function ApiProvider(props: {
  client: ApolloClient;
  tokens: TokenStore;
  store: LiveStore;
  realtimeUrl?: string;
  children: ReactNode;
}) {
  const { client, tokens, store, realtimeUrl } = props;
  const token = useSyncExternalStore(tokens.subscribe, tokens.get);
  const realtime = useRef<Realtime | null>(null);
  /** Reference counts of the rooms components asked for, kept across reconnections. */
  const wanted = useRef(new Map<string, Array<() => void>>());

  useEffect(() => {
    if (!token) {
      void client.clearStore();
      return;
    }
    const rt = connectRealtime({
      token,
      store,
      url: realtimeUrl,
      onUnauthorized: () => tokens.set(null),
      onProject: (e) => applyProjectEvent(client.cache, e),
      onWorkers: (events) => {
        // A worker the cache does not know yet: fetch the list once (it is a few rows).
        if (applyWorkersEvent(client.cache, events))
          void client.refetchQueries({ include: [WorkersDocument, DashboardDocument] });
      },
    });
    realtime.current = rt;
    // Rooms wanted before this connection existed.
    for (const [projectId, leaves] of wanted.current) {
      for (let i = 0; i < leaves.length; i++) leaves[i] = rt.watchProject(projectId);
    }
    return () => {
      realtime.current = null;
      rt.close();
    };
  }, [token, client, store, tokens, realtimeUrl]);

  const watch = useCallback((projectId: string) => {
    const leave = realtime.current?.watchProject(projectId) ?? (() => {});
    const list = wanted.current.get(projectId) ?? [];
    list.push(leave);
    wanted.current.set(projectId, list);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const l = wanted.current.get(projectId);
      if (!l) return;
      const f = l.pop();
      f?.();
      if (l.length === 0) wanted.current.delete(projectId);
    };
  }, []);

  const value = useMemo<SessionContextValue>(() => ({ tokens, store, realtime, watch }), [tokens, store, watch]);
  return (
    <SessionContext.Provider value={value}>
      <ApolloProvider client={client}>{props.children}</ApolloProvider>
    </SessionContext.Provider>
  );
}

/** The session token and the actions that change it. */
export function useSession(): { token: string | null; signIn(token: string): void; signOut(): void } {
  const { tokens } = useSessionContext();
  const token = useSyncExternalStore(tokens.subscribe, tokens.get);
  return useMemo(
    () => ({ token, signIn: (t: string) => tokens.set(t), signOut: () => tokens.set(null) }),
    [token, tokens],
  );
}

/** A slice of the live state; re-renders only when the selected value changes (by identity). */
export function useLive<T>(selector: (s: LiveState) => T): T {
  const { store } = useSessionContext();
  return useSyncExternalStore(store.subscribe, () => selector(store.getState()));
}

/** The live store itself, for components that dispatch (e.g. a mutation's result). */
export function useLiveStore(): LiveStore {
  return useSessionContext().store;
}

/** Joins the rooms of these projects while mounted. */
export function useWatchProjects(projectIds: readonly string[]): void {
  const { watch } = useSessionContext();
  const key = [...projectIds].sort().join(',');
  useEffect(() => {
    const leaves = key ? key.split(',').map((id) => watch(id)) : [];
    return () => leaves.forEach((l) => l());
  }, [key, watch]);
}

/** Joins one project's room while mounted and returns its live state (undefined before its first event). */
export function useProjectLive(projectId: string | null | undefined): ProjectLive | undefined {
  useWatchProjects(projectId ? [projectId] : []);
  return useLive((s) => (projectId ? s.projects[projectId] : undefined));
}
