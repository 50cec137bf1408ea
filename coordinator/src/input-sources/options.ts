import type { InputOptionsFieldError } from './types.js';

/** Result of checking input options: the options with their defaults filled in, or field errors. */
export type OptionsResult<T> = { ok: true; options: T } | { ok: false; errors: InputOptionsFieldError[] };

/** Collects field errors while reading an options object. */
export class OptionsReader {
  readonly errors: InputOptionsFieldError[] = [];
  private readonly o: Record<string, unknown>;

  constructor(
    raw: unknown,
    private readonly known: readonly string[],
  ) {
    if (raw === undefined || raw === null) {
      this.o = {};
    } else if (typeof raw !== 'object' || Array.isArray(raw)) {
      this.o = {};
      this.errors.push({ field: '', message: 'input options must be an object' });
    } else {
      this.o = raw as Record<string, unknown>;
      for (const k of Object.keys(this.o)) {
        if (!known.includes(k)) this.errors.push({ field: k, message: `unknown option (known: ${known.join(', ')})` });
      }
    }
  }

  error(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  string(field: string, opts: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const v = this.o[field];
    if (v === undefined || v === null) {
      if (opts.required) this.error(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.error(field, 'must be a string');
      return undefined;
    }
    if ((opts.nonEmpty ?? true) && v.length === 0) {
      this.error(field, 'must not be empty');
      return undefined;
    }
    return v;
  }

  /** A path relative to the project root that stays under it. */
  relativePath(field: string, fallback?: string): string | undefined {
    const v = this.string(field) ?? fallback;
    if (v === undefined) return undefined;
    if (v.includes('\0')) this.error(field, 'must not contain NUL');
    else if (v.startsWith('/') || /^[A-Za-z]:[\\/]/.test(v)) this.error(field, 'must be relative to the project root');
    else if (v.split(/[\\/]/).includes('..')) this.error(field, 'must stay under the project root (no "..")');
    else return v;
    return undefined;
  }

  number(field: string, fallback: number, min: number, max: number): number {
    const v = this.o[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.error(field, 'must be a number');
      return fallback;
    }
    if (v < min || v > max) {
      this.error(field, `must be between ${min} and ${max}`);
      return fallback;
    }
    return v;
  }

  stringList(field: string): string[] | undefined {
    const v = this.o[field];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) {
      this.error(field, 'must be a list of non-empty strings');
      return undefined;
    }
    return v as string[];
  }

  oneOf<T extends string>(field: string, values: readonly T[], fallback: T): T {
    const v = this.o[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.error(field, `must be one of ${values.join(', ')}`);
      return fallback;
    }
    return v as T;
  }

  result<T>(options: T): OptionsResult<T> {
    return this.errors.length ? { ok: false, errors: this.errors } : { ok: true, options };
  }
}
