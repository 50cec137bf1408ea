/**
 * The session token: kept in localStorage (so a reload stays signed in), sent as `Authorization: Bearer` on every
 * GraphQL request and as `auth.token` in the socket.io handshake. A small external store, so that the Apollo link,
 * the socket and React all read the same value.
 */
const KEY = 'tileflow.token';

export interface TokenStore {
  get(): string | null;
  set(token: string | null): void;
  subscribe(listener: () => void): () => void;
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function createTokenStore(): TokenStore {
  let token = storage()?.getItem(KEY) ?? null;
  const listeners = new Set<() => void>();
  return {
    get: () => token,
    set(next) {
      if (next === token) return;
      token = next;
      const s = storage();
      if (next) s?.setItem(KEY, next);
      else s?.removeItem(KEY);
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
