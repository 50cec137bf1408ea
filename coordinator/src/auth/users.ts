import { UniqueConstraintError, type Sequelize } from 'sequelize';
import { USER_ROLES, UserRole } from '@tileflow/shared';
import { getModels, type UserRow } from '../db/models/index.js';
import type { Logger } from '../logger.js';
import { hashPassword, passwordProblem, verifyPassword } from './password.js';

/** A user as the rest of the system sees it (never the hash). */
export interface PublicUser {
  id: string;
  username: string;
  role: UserRole;
  createdAt: Date;
}

const USERNAME = /^[A-Za-z0-9_.@-]{1,64}$/;

export const toPublicUser = (u: UserRow): PublicUser => ({
  id: u.id,
  username: u.username,
  role: u.role,
  createdAt: u.createdAt,
});

/** An input problem tied to one field. */
export interface FieldProblem {
  field: string;
  message: string;
}

export type CreateUserResult = { user: PublicUser; errors: [] } | { user: null; errors: FieldProblem[] };

/** Validates and creates a user. Input problems come back as field errors, never as exceptions. */
export async function createUser(
  sequelize: Sequelize,
  input: { username: string; password: string; role: UserRole },
): Promise<CreateUserResult> {
  const errors: FieldProblem[] = [];
  if (!USERNAME.test(input.username)) {
    errors.push({ field: 'username', message: 'use 1 to 64 letters, digits or . _ @ -' });
  }
  const problem = passwordProblem(input.password);
  if (problem) errors.push({ field: 'password', message: `password ${problem}` });
  if (!USER_ROLES.includes(input.role)) {
    errors.push({ field: 'role', message: `must be one of ${USER_ROLES.join(', ')}` });
  }
  const { User } = getModels(sequelize);
  if (errors.length === 0 && (await User.count({ where: { username: input.username } })) > 0) {
    errors.push({ field: 'username', message: `user "${input.username}" already exists: choose another name` });
  }
  if (errors.length > 0) return { user: null, errors };
  try {
    const created = await User.create({
      username: input.username,
      passwordHash: await hashPassword(input.password),
      role: input.role,
    });
    return { user: toPublicUser(created.get({ plain: true })), errors: [] };
  } catch (err) {
    // Another process created the same name between the check and the insert.
    if (err instanceof UniqueConstraintError) {
      return {
        user: null,
        errors: [{ field: 'username', message: `user "${input.username}" already exists: choose another name` }],
      };
    }
    throw err;
  }
}

/** The user whose name and password match, or null (the same answer for an unknown name and a wrong password). */
export async function authenticate(
  sequelize: Sequelize,
  username: string,
  password: string,
): Promise<PublicUser | null> {
  const { User } = getModels(sequelize);
  const row = await User.findOne({ where: { username }, raw: true });
  if (!row) {
    // Spend the same time as a real check so that response times do not reveal which names exist.
    await verifyPassword(password, DUMMY_HASH);
    return null;
  }
  return (await verifyPassword(password, row.passwordHash)) ? toPublicUser(row) : null;
}

/** A valid hash of a random string, checked against when the user does not exist. */
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$' + Buffer.alloc(64, 1).toString('base64');

export async function findUser(sequelize: Sequelize, id: string): Promise<PublicUser | null> {
  const row = await getModels(sequelize).User.findByPk(id, { raw: true });
  return row ? toPublicUser(row) : null;
}

export async function listUsers(sequelize: Sequelize): Promise<PublicUser[]> {
  const rows = await getModels(sequelize).User.findAll({ order: [['username', 'ASC']], raw: true });
  return rows.map(toPublicUser);
}

export async function changePassword(
  sequelize: Sequelize,
  userId: string,
  currentPassword: string,
  newPassword: string,
): Promise<{ user: PublicUser | null; errors: FieldProblem[] }> {
  const { User } = getModels(sequelize);
  const row = await User.findByPk(userId);
  if (!row) return { user: null, errors: [{ field: 'currentPassword', message: 'your user no longer exists' }] };
  if (!(await verifyPassword(currentPassword, row.passwordHash))) {
    return { user: null, errors: [{ field: 'currentPassword', message: 'the current password is wrong' }] };
  }
  const problem = passwordProblem(newPassword);
  if (problem) return { user: null, errors: [{ field: 'newPassword', message: `new password ${problem}` }] };
  row.passwordHash = await hashPassword(newPassword);
  await row.save();
  return { user: toPublicUser(row.get({ plain: true })), errors: [] };
}

/**
 * Creates the first admin from TILEFLOW_ADMIN_USER / TILEFLOW_ADMIN_PASSWORD when the users table is empty.
 * Without a password it creates nothing and logs exactly what to set: there is no default password.
 * Returns what happened, for the caller's logs and tests.
 */
export async function ensureFirstAdmin(
  sequelize: Sequelize,
  auth: { adminUser: string; adminPassword: string | undefined },
  logger: Logger,
): Promise<'exists' | 'created' | 'missing-password'> {
  const { User } = getModels(sequelize);
  if ((await User.count()) > 0) return 'exists';
  if (!auth.adminPassword) {
    logger.warn(
      'No user exists and TILEFLOW_ADMIN_PASSWORD is not set: nobody can sign in. Set TILEFLOW_ADMIN_PASSWORD ' +
        '(and optionally TILEFLOW_ADMIN_USER, default admin) in .env and restart, or run ' +
        '`tileflow user create --name NAME --role admin` with the password on stdin.',
    );
    return 'missing-password';
  }
  const result = await createUser(sequelize, {
    username: auth.adminUser,
    password: auth.adminPassword,
    role: UserRole.Admin,
  });
  if (result.errors.length > 0) {
    // Another coordinator process made it at the same moment.
    if ((await User.count()) > 0) return 'exists';
    const detail = result.errors.map(
      (e) => `${e.field === 'username' ? 'TILEFLOW_ADMIN_USER' : 'TILEFLOW_ADMIN_PASSWORD'}: ${e.message}`,
    );
    throw new Error(`Cannot create the first admin: ${detail.join('; ')}`);
  }
  logger.info({ username: auth.adminUser }, 'created the first admin from TILEFLOW_ADMIN_USER');
  return 'created';
}
