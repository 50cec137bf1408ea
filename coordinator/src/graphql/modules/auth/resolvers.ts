import type { Resolvers } from '../../generated/resolvers.js';
import { authenticate, changePassword, createUser, listUsers } from '../../../auth/users.js';
import { UnauthenticatedError } from '../../errors.js';

export const resolvers: Resolvers = {
  Query: {
    me: (_, __, ctx) => (ctx.caller.kind === 'user' ? ctx.caller.user : null),
    users: (_, __, ctx) => listUsers(ctx.services.sequelize),
  },
  Mutation: {
    signIn: async (_, { username, password }, ctx) => {
      const user = await authenticate(ctx.services.sequelize, username, password);
      if (!user) {
        ctx.services.logger.info({ username }, 'sign-in refused');
        return { token: null, user: null, errors: [{ field: 'password', message: 'unknown user or wrong password' }] };
      }
      const token = await ctx.services.tokens.sign({ userId: user.id, username: user.username, role: user.role });
      return { token, user, errors: [] };
    },
    createUser: (_, { username, password, role }, ctx) =>
      createUser(ctx.services.sequelize, { username, password, role: role ?? 'operator' }),
    changePassword: (_, { currentPassword, newPassword }, ctx) => {
      if (ctx.caller.kind !== 'user') throw new UnauthenticatedError();
      return changePassword(ctx.services.sequelize, ctx.caller.user.id, currentPassword, newPassword);
    },
  },
};
