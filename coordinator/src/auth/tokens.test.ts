import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createSessionTokens } from './tokens.js';

const secret = 'x'.repeat(40);
const claims = { userId: '00000000-0000-4000-8000-000000000001', username: 'ada', role: 'operator' as const };

describe('session tokens', () => {
  it('round-trips the claims', async () => {
    const tokens = createSessionTokens(secret, 1);
    expect(await tokens.verify(await tokens.sign(claims))).toEqual(claims);
  });

  it('refuses another secret, garbage, and expired tokens', async () => {
    const token = await createSessionTokens(secret, 1).sign(claims);
    expect(await createSessionTokens('y'.repeat(40), 1).verify(token)).toBeNull();
    expect(await createSessionTokens(secret, 1).verify('not.a.token')).toBeNull();
    expect(await createSessionTokens(secret, 1).verify(token.slice(0, -2) + 'AA')).toBeNull();
    const expired = await new SignJWT({ username: 'ada', role: 'operator' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.userId)
      .setIssuer('tileflow')
      .setAudience('tileflow-api')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(new TextEncoder().encode(secret));
    expect(await createSessionTokens(secret, 1).verify(expired)).toBeNull();
  });

  it('refuses unsigned (alg none) tokens', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({
        sub: claims.userId,
        username: 'ada',
        role: 'admin',
        iss: 'tileflow',
        aud: 'tileflow-api',
        exp: 9999999999,
      }),
    ).toString('base64url');
    expect(await createSessionTokens(secret, 1).verify(`${header}.${body}.`)).toBeNull();
  });
});
