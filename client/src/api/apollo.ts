import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { ErrorLink } from '@apollo/client/link/error';
import { SetContextLink } from '@apollo/client/link/context';
import type { TokenStore } from './auth';

/** True when an error means "the session is gone": sign in again. */
export function isUnauthenticated(error: unknown): boolean {
  if (CombinedGraphQLErrors.is(error)) return error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
  if (ServerError.is(error)) return error.statusCode === 401;
  return false;
}

/**
 * The Apollo client: bearer token on every request, a sign-out when the API answers UNAUTHENTICATED, and type
 * policies for the objects that have no id of their own (they live inside their parent).
 */
export function createApolloClient(o: { tokens: TokenStore; uri?: string }): ApolloClient {
  const auth = new SetContextLink((prev) => {
    const token = o.tokens.get();
    return { headers: { ...prev.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } };
  });
  const signOutOnExpiry = new ErrorLink(({ error }) => {
    if (isUnauthenticated(error) && o.tokens.get()) o.tokens.set(null);
  });
  const embedded = { keyFields: false as const, merge: true };
  return new ApolloClient({
    link: ApolloLink.from([signOutOnExpiry, auth, new HttpLink({ uri: o.uri ?? '/graphql' })]),
    cache: new InMemoryCache({
      typePolicies: {
        StatusCounts: embedded,
        StageCounts: { keyFields: false },
        Region: embedded,
        Parameter: { keyFields: false },
        ScriptStatus: embedded,
        ClusterOptions: embedded,
        Health: embedded,
        Dashboard: embedded,
        Plane: { keyFields: false },
        PlaneTile: { keyFields: false },
        TilePage: { keyFields: false },
        StageTile: { keyFields: false },
        MetricPoint: { keyFields: false },
        LogChunk: { keyFields: false },
        FieldError: { keyFields: false },
      },
    }),
    defaultOptions: {
      watchQuery: { fetchPolicy: 'cache-and-network', nextFetchPolicy: 'cache-first' },
    },
  });
}
