import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { UserRole } from '@tileflow/shared';

/** Claims of a user's session token. */
export interface SessionClaims {
  userId: string;
  username: string;
  role: UserRole;
}

export interface SessionTokens {
  /** Signs a session token (HS256) that expires after the configured hours. */
  sign(claims: SessionClaims): Promise<string>;
  /** The claims of a valid, unexpired token; null for anything else (malformed, bad signature, expired). */
  verify(token: string): Promise<SessionClaims | null>;
}

const ISSUER = 'tileflow';
const AUDIENCE = 'tileflow-api';

/** Session tokens signed with TILEFLOW_SESSION_SECRET. */
export function createSessionTokens(secret: string, sessionHours: number): SessionTokens {
  const key = new TextEncoder().encode(secret);
  const lifetimeSeconds = Math.max(1, Math.round(sessionHours * 3600));
  return {
    async sign(claims) {
      return new SignJWT({ username: claims.username, role: claims.role })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(claims.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${lifetimeSeconds}s`)
        .sign(key);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
        if (
          typeof payload.sub !== 'string' ||
          typeof payload.username !== 'string' ||
          typeof payload.role !== 'string'
        ) {
          return null;
        }
        return { userId: payload.sub, username: payload.username, role: payload.role as UserRole };
      } catch (err) {
        if (err instanceof joseErrors.JOSEError) return null;
        throw err;
      }
    },
  };
}
