/** A small GraphQL client for the CLI: fetch, bearer token, sign-in on first use, errors that say what to do. */

/** An error the CLI prints as it is (no stack), with the exit code to use. */
export class CliError extends Error {
  readonly code = 'CLI';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Credentials {
  token?: string;
  username?: string;
  password?: string;
}

export interface ApiClient {
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

export function createApiClient(url: string, credentials: Credentials): ApiClient {
  const endpoint = `${url.replace(/\/+$/, '')}/graphql`;
  let token = credentials.token;

  async function post<T>(query: string, variables: Record<string, unknown>, auth: string | undefined) {
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new CliError(
        `Cannot reach the coordinator at ${url} (${cause}): is it running? Set TILEFLOW_URL if it is elsewhere.`,
      );
    }
    let body: GraphQLResponse<T>;
    try {
      body = (await res.json()) as GraphQLResponse<T>;
    } catch {
      throw new CliError(
        `${endpoint} answered HTTP ${res.status} without GraphQL: is TILEFLOW_URL the coordinator's address?`,
      );
    }
    if (body.errors?.length) {
      const first = body.errors[0];
      const code = first.extensions?.code;
      if (code === 'UNAUTHENTICATED') {
        throw new CliError(
          `Not signed in: ${first.message}. Set TILEFLOW_TOKEN, or TILEFLOW_USER and TILEFLOW_PASSWORD.`,
        );
      }
      throw new CliError(body.errors.map((e) => e.message).join('; '));
    }
    if (!body.data) throw new CliError(`${endpoint} answered HTTP ${res.status} without data`);
    return body.data;
  }

  async function signIn(): Promise<string> {
    const { username, password } = credentials;
    if (!username || !password) {
      throw new CliError(
        'No credentials: set TILEFLOW_TOKEN, or TILEFLOW_USER and TILEFLOW_PASSWORD (or TILEFLOW_ADMIN_USER and ' +
          'TILEFLOW_ADMIN_PASSWORD), in the environment or in the repository .env',
      );
    }
    const data = await post<{ signIn: { token: string | null; errors: Array<{ message: string }> } }>(
      'mutation SignIn($u: String!, $p: String!) { signIn(username: $u, password: $p) { token errors { message } } }',
      { u: username, p: password },
      undefined,
    );
    if (!data.signIn.token) {
      throw new CliError(`Sign-in of "${username}" refused: ${data.signIn.errors.map((e) => e.message).join('; ')}`);
    }
    return data.signIn.token;
  }

  return {
    async request<T>(query: string, variables: Record<string, unknown> = {}) {
      token ??= await signIn();
      return post<T>(query, variables, token);
    },
  };
}

/** Throws the mutation's field errors, one per line ("field: message"). */
export function throwFieldErrors(errors: Array<{ field: string; message: string }>, what: string): void {
  if (errors.length === 0) return;
  throw new CliError(`${what} refused:\n${errors.map((e) => `  ${e.field}: ${e.message}`).join('\n')}`);
}
