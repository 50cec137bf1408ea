import type { Sequelize } from 'sequelize';
import { UserRole } from '@tileflow/shared';
import { safeEqual } from './password.js';
import type { SessionTokens } from './tokens.js';
import { findUser, type PublicUser } from './users.js';

/** Who is calling: a signed-in user, a worker daemon (worker token), or nobody. */
export type Caller = { kind: 'user'; user: PublicUser } | { kind: 'worker' } | { kind: 'anonymous' };

export interface Authenticator {
  /** The caller for a bearer token (from `Authorization: Bearer …` or socket.io's `auth.token`). */
  callerForToken(token: string | undefined | null): Promise<Caller>;
  /** Whether anonymous callers may read (TILEFLOW_ANONYMOUS_READ). */
  readonly anonymousRead: boolean;
}

/** Extracts the token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m ? m[1] : undefined;
}

/**
 * Resolves callers. A token equal to the worker token (compared in constant time) is a worker; otherwise it must be
 * a valid session token of a user who still exists (the role is read from the database, so a demoted user loses
 * rights at once). Anything else is anonymous.
 */
export function createAuthenticator(deps: {
  sequelize: Sequelize;
  tokens: SessionTokens;
  workerToken: string;
  anonymousRead: boolean;
}): Authenticator {
  return {
    anonymousRead: deps.anonymousRead,
    async callerForToken(token) {
      if (!token) return { kind: 'anonymous' };
      if (safeEqual(token, deps.workerToken)) return { kind: 'worker' };
      const claims = await deps.tokens.verify(token);
      if (!claims) return { kind: 'anonymous' };
      const user = await findUser(deps.sequelize, claims.userId);
      return user ? { kind: 'user', user } : { kind: 'anonymous' };
    },
  };
}

/** The rights of a role, in one place. */
export const canMutate = (role: UserRole): boolean => role === UserRole.Admin || role === UserRole.Operator;
export const isAdmin = (role: UserRole): boolean => role === UserRole.Admin;

/** Whether a caller may read (queries and socket.io events). */
export function canRead(caller: Caller, anonymousRead: boolean): boolean {
  switch (caller.kind) {
    case 'user':
      return true;
    case 'anonymous':
      return anonymousRead;
    case 'worker':
      return false;
  }
}
