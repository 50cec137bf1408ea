import { GraphQLError } from 'graphql';

/** Stable codes of the GraphQL errors this API raises (in `extensions.code`). Input problems are field errors. */
export const ApiErrorCode = {
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

export class UnauthenticatedError extends GraphQLError {
  constructor(message = 'Sign in first: send "Authorization: Bearer <token>" with a token from signIn') {
    super(message, { extensions: { code: ApiErrorCode.Unauthenticated, http: { status: 401 } } });
  }
}

export class ForbiddenError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: ApiErrorCode.Forbidden, http: { status: 403 } } });
  }
}

/** An input error tied to one field of a mutation's input. */
export interface FieldError {
  field: string;
  message: string;
}

/** Collects field errors while validating a mutation's input. */
export class FieldErrors {
  readonly list: FieldError[] = [];
  add(field: string, message: string): this {
    this.list.push({ field, message });
    return this;
  }
  has(field?: string): boolean {
    return field === undefined ? this.list.length > 0 : this.list.some((e) => e.field === field);
  }
}

/** A mutation answer that carries only errors (the entity field is null). */
export function failed<K extends string>(key: K, errors: FieldError[]): { errors: FieldError[] } & Record<K, null> {
  return { [key]: null, errors } as { errors: FieldError[] } & Record<K, null>;
}

/** Field error for an id that names nothing (or something archived). */
export const notFound = (field: string, what: string, id: string): FieldError => ({
  field,
  message: `no ${what} with id "${id}": check the id (archived ${what}s cannot be changed)`,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** True for a syntactically valid uuid: other ids cannot exist, and Postgres would reject them with an error. */
export const isUuid = (id: string): boolean => UUID.test(id);
/** True for a tile id (a positive bigint). */
export const isTileId = (id: string): boolean => /^[1-9]\d{0,18}$/.test(id);
