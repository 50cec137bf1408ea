import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ProjectEvent, ServerToClientEvents, WorkerEvent } from '@tileflow/shared';
import type { LiveStore } from './store';

export type TileflowSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The realtime connection: feeds the live store and keeps the project rooms joined across reconnects. */
export interface Realtime {
  /** Joins a project's room; returns the function that leaves it (rooms are reference-counted). */
  watchProject(projectId: string): () => void;
  close(): void;
}

export interface RealtimeOptions {
  token: string;
  store: LiveStore;
  /** Called when the server refuses the token (expired or revoked session). */
  onUnauthorized(): void;
  /** Worker list updates (written into the Apollo cache by the caller). */
  onWorkers(events: WorkerEvent[]): void;
  /** A project's processing flag or input state changed. */
  onProject(event: ProjectEvent): void;
  /** Where the coordinator is; default: this page's origin. */
  url?: string;
}

export function connectRealtime(o: RealtimeOptions): Realtime {
  const socket: TileflowSocket = o.url ? io(o.url, { auth: { token: o.token } }) : io({ auth: { token: o.token } });
  const rooms = new Map<string, number>();
  const { store } = o;

  socket.on('connect', () => {
    store.dispatch({ type: 'connection', connected: true });
    // A fresh connection has no rooms: join them again (each subscribe answers with a counts snapshot).
    for (const id of rooms.keys()) socket.emit('subscribe', id);
  });
  socket.on('disconnect', () => store.dispatch({ type: 'connection', connected: false }));
  socket.on('connect_error', (err) => {
    store.dispatch({ type: 'connection', connected: false });
    if (/unauthorized/i.test(err.message)) o.onUnauthorized();
  });
  socket.on('stageCounts', (event) => store.dispatch({ type: 'stageCounts', event, at: Date.now() }));
  socket.on('planesChanged', (event) => store.dispatch({ type: 'planesChanged', event }));
  socket.on('executions', (event) => store.dispatch({ type: 'executions', event }));
  socket.on('workers', (events) => o.onWorkers(events));
  socket.on('project', (event) => o.onProject(event));

  return {
    watchProject(projectId) {
      const n = rooms.get(projectId) ?? 0;
      rooms.set(projectId, n + 1);
      if (n === 0 && socket.connected) socket.emit('subscribe', projectId);
      let left = false;
      return () => {
        if (left) return;
        left = true;
        const m = (rooms.get(projectId) ?? 1) - 1;
        if (m > 0) {
          rooms.set(projectId, m);
          return;
        }
        rooms.delete(projectId);
        if (socket.connected) socket.emit('unsubscribe', projectId);
      };
    },
    close() {
      socket.removeAllListeners();
      socket.disconnect();
      store.dispatch({ type: 'reset' });
    },
  };
}
