/**
 * Typed configuration from the environment. Each field names its variable, parses it once and fails fast with the
 * variable's name. Secrets have no defaults: a missing secret stops startup.
 */

/** Raised when an environment variable is missing or malformed. Startup stops with this message. */
export class ConfigError extends Error {
  readonly code = 'CONFIG';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads variables from one environment, so that tests can pass their own instead of process.env. */
export class EnvReader {
  constructor(private readonly env: Env = process.env) {}

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  /** A string, with a default. */
  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** A string that may be absent. */
  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  /** A required string, for secrets: no default exists. */
  secret(name: string, hint = 'set it in .env (copy .env-template)'): string {
    const v = this.raw(name);
    if (v === undefined) throw new ConfigError(name, `is required and has no default; ${hint}`);
    return v;
  }

  /** An integer within [min, max]. */
  int(name: string, fallback: number, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `must be a whole number, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
    return n;
  }

  /** A number within [min, max]. */
  number(name: string, fallback: number, min = -Infinity, max = Infinity): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new ConfigError(name, `must be a number, got "${v}"`);
    if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
    return n;
  }

  /** A boolean: true/false/1/0/yes/no. */
  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const s = v.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off'].includes(s)) return false;
    throw new ConfigError(name, `must be true or false, got "${v}"`);
  }

  /** One of a fixed list. */
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!(values as readonly string[]).includes(v)) {
      throw new ConfigError(name, `must be one of ${values.join(', ')}, got "${v}"`);
    }
    return v as T;
  }
}

/** Connection settings of the project's services, shared by the coordinator, the worker and the tools. */
export interface ServicesConfig {
  db: {
    /** TILEFLOW_DB_HOST, default 127.0.0.1 */ host: string;
    /** TILEFLOW_DB_PORT, default 55432 */ port: number;
    /** TILEFLOW_DB_NAME, default tileflow */ database: string;
    /** TILEFLOW_DB_USER, default tileflow */ user: string;
    /** TILEFLOW_DB_PASSWORD; optional (the native cluster trusts loopback) */ password: string | undefined;
  };
  redis: {
    /** TILEFLOW_REDIS_HOST, default 127.0.0.1 */ host: string;
    /** TILEFLOW_REDIS_PORT, default 56379 */ port: number;
    /** TILEFLOW_REDIS_PASSWORD; optional */ password: string | undefined;
    /** TILEFLOW_QUEUE_PREFIX, default "tileflow": BullMQ key prefix (tests use a random one) */ prefix: string;
  };
  influx: {
    /** TILEFLOW_INFLUX_HOST, default 127.0.0.1 */ host: string;
    /** TILEFLOW_INFLUX_PORT, default 58086 */ port: number;
    /** TILEFLOW_INFLUX_DATABASE, default tileflow */ database: string;
    /** TILEFLOW_INFLUX_USER / TILEFLOW_INFLUX_PASSWORD; optional */ user: string | undefined;
    password: string | undefined;
  };
}

export function readServicesConfig(env: EnvReader = new EnvReader()): ServicesConfig {
  return {
    db: {
      host: env.string('TILEFLOW_DB_HOST', '127.0.0.1'),
      port: env.int('TILEFLOW_DB_PORT', 55432, 1, 65535),
      database: env.string('TILEFLOW_DB_NAME', 'tileflow'),
      user: env.string('TILEFLOW_DB_USER', 'tileflow'),
      password: env.optionalString('TILEFLOW_DB_PASSWORD'),
    },
    redis: {
      host: env.string('TILEFLOW_REDIS_HOST', '127.0.0.1'),
      port: env.int('TILEFLOW_REDIS_PORT', 56379, 1, 65535),
      password: env.optionalString('TILEFLOW_REDIS_PASSWORD'),
      prefix: env.string('TILEFLOW_QUEUE_PREFIX', 'tileflow'),
    },
    influx: {
      host: env.string('TILEFLOW_INFLUX_HOST', '127.0.0.1'),
      port: env.int('TILEFLOW_INFLUX_PORT', 58086, 1, 65535),
      database: env.string('TILEFLOW_INFLUX_DATABASE', 'tileflow'),
      user: env.optionalString('TILEFLOW_INFLUX_USER'),
      password: env.optionalString('TILEFLOW_INFLUX_PASSWORD'),
    },
  };
}
