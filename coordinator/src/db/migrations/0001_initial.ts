import type { Migration } from '../migrate.js';
import {
  EXECUTION_STATUSES,
  EXECUTION_TARGETS,
  FAILURE_REASONS,
  INPUT_KINDS,
  INPUT_STATES,
  STAGE_KINDS,
  TARGET_PREFERENCES,
  TILE_STATUSES,
  USER_ROLES,
  WORKER_STATUSES,
} from '@tileflow/shared';

/** `CHECK (col IN (...))` from one of the shared enum lists, so the database and the code cannot disagree. */
const oneOf = (column: string, values: readonly string[]) =>
  `CHECK (${column} IN (${values.map((v) => `'${v}'`).join(', ')}))`;

export const up: Migration = async ({ context: sql }) => {
  await sql.query(`
    CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      username text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
      password_hash text NOT NULL,
      role text NOT NULL DEFAULT 'operator' ${oneOf('role', USER_ROLES)},
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE projects (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      description text NOT NULL DEFAULT '',
      root_path text NOT NULL,
      log_root_path text,
      input_kind text NOT NULL DEFAULT 'pipeline-json' ${oneOf('input_kind', INPUT_KINDS)},
      input_options jsonb NOT NULL DEFAULT '{}',
      input_state text NOT NULL DEFAULT 'unknown' ${oneOf('input_state', INPUT_STATES)},
      input_message text,
      input_checked_at timestamptz,
      extent_min_x integer, extent_max_x integer,
      extent_min_y integer, extent_max_y integer,
      extent_min_z integer, extent_max_z integer,
      roi_min_x integer, roi_max_x integer,
      roi_min_y integer, roi_max_y integer,
      roi_min_z integer, roi_max_z integer,
      skip_z integer[] NOT NULL DEFAULT '{}',
      parameters jsonb NOT NULL DEFAULT '{}',
      is_processing boolean NOT NULL DEFAULT false,
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX projects_name_active ON projects (name) WHERE archived_at IS NULL;

    CREATE TABLE task_repositories (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      location text NOT NULL,
      description text NOT NULL DEFAULT '',
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX task_repositories_name_active ON task_repositories (name) WHERE archived_at IS NULL;

    CREATE TABLE task_definitions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      repository_id uuid REFERENCES task_repositories (id) ON DELETE RESTRICT,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      description text NOT NULL DEFAULT '',
      script text NOT NULL CHECK (length(script) > 0),
      args text[] NOT NULL DEFAULT '{}',
      expected_exit_code integer NOT NULL DEFAULT 0,
      local_work_units double precision NOT NULL DEFAULT 1 CHECK (local_work_units >= 0),
      cluster_work_units double precision NOT NULL DEFAULT 1 CHECK (cluster_work_units >= 0),
      cluster_options jsonb NOT NULL DEFAULT '{}',
      timeout_seconds integer CHECK (timeout_seconds IS NULL OR timeout_seconds > 0),
      max_retries integer NOT NULL DEFAULT 0 CHECK (max_retries >= 0),
      retry_backoff_seconds double precision NOT NULL DEFAULT 5 CHECK (retry_backoff_seconds >= 0),
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE stages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      parent_id uuid REFERENCES stages (id) ON DELETE SET NULL,
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      description text NOT NULL DEFAULT '',
      kind text NOT NULL DEFAULT 'map' ${oneOf('kind', STAGE_KINDS)},
      task_definition_id uuid NOT NULL REFERENCES task_definitions (id) ON DELETE RESTRICT,
      output_path text NOT NULL,
      target text NOT NULL DEFAULT 'any' ${oneOf('target', TARGET_PREFERENCES)},
      is_processing boolean NOT NULL DEFAULT true,
      -- Non-null while tiles the parent completed before this stage existed (or moved) are still to be read:
      -- the last parent tile id read. Readiness walks the parent's completed tiles in id order from here.
      backfill_after bigint,
      archived_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (parent_id IS NULL OR parent_id <> id)
    );
    CREATE INDEX stages_project ON stages (project_id) WHERE archived_at IS NULL;
    CREATE INDEX stages_parent ON stages (parent_id);

    CREATE TABLE tiles (
      id bigserial PRIMARY KEY,
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      relative_path text NOT NULL,
      tile_name text NOT NULL,
      x integer, y integer, z integer,
      step_x double precision, step_y double precision, step_z double precision,
      is_complete boolean NOT NULL DEFAULT false,
      -- The item was recorded but has since disappeared from the input; kept, never deleted.
      is_missing boolean NOT NULL DEFAULT false,
      -- Set when the tile became complete; cleared by the scheduler once the root's child stages have read it.
      propagate boolean NOT NULL DEFAULT false,
      user_data jsonb NOT NULL DEFAULT '{}',
      -- Digest of what the input source said of the item, to skip unchanged items without comparing fields.
      fingerprint text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (project_id, relative_path)
    );
    CREATE INDEX tiles_lattice ON tiles (project_id, x, y, z);
    CREATE INDEX tiles_plane ON tiles (project_id, z, y, x);
    CREATE INDEX tiles_propagate ON tiles (project_id) WHERE propagate;

    CREATE TABLE stage_tile_states (
      stage_id uuid NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
      tile_id bigint NOT NULL REFERENCES tiles (id) ON DELETE CASCADE,
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      -- Copied from the tile so that "next ready tiles in z, y, x order" and plane queries use one index.
      x integer, y integer, z integer,
      status text NOT NULL DEFAULT 'incomplete' ${oneOf('status', TILE_STATUSES)},
      -- Attempts made so far; numbers the next execution (never reset, so attempt numbers stay unique).
      attempts integer NOT NULL DEFAULT 0,
      -- Attempts made before the last resubmit: the retry budget counts from here.
      retry_base integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      current_execution_id uuid,
      -- Set when the tile became complete in this stage; cleared once its child stages have read it.
      propagate boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (stage_id, tile_id)
    );
    CREATE INDEX stage_tile_states_ready ON stage_tile_states (stage_id, status, z, y, x);
    CREATE INDEX stage_tile_states_plane ON stage_tile_states (stage_id, z, y, x);
    CREATE INDEX stage_tile_states_tile ON stage_tile_states (tile_id);
    CREATE INDEX stage_tile_states_propagate ON stage_tile_states (stage_id) WHERE propagate;

    CREATE TABLE workers (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
      -- A new session id on every (re)start of the daemon: executions of older sessions are recovered.
      session_id uuid,
      host text NOT NULL DEFAULT '',
      status text NOT NULL DEFAULT 'starting' ${oneOf('status', WORKER_STATUSES)},
      -- Desired state set from the API; the daemon reads it with every heartbeat.
      paused boolean NOT NULL DEFAULT false,
      draining boolean NOT NULL DEFAULT false,
      in_pool boolean NOT NULL DEFAULT true,
      local_capacity double precision NOT NULL DEFAULT 1 CHECK (local_capacity >= 0),
      cluster_capacity double precision NOT NULL DEFAULT 0 CHECK (cluster_capacity >= 0),
      local_load double precision NOT NULL DEFAULT 0,
      cluster_load double precision NOT NULL DEFAULT 0,
      cpus integer,
      memory_mb integer,
      load_average double precision,
      version text,
      last_heartbeat_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE task_executions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
      stage_id uuid NOT NULL REFERENCES stages (id) ON DELETE CASCADE,
      tile_id bigint NOT NULL REFERENCES tiles (id) ON DELETE CASCADE,
      task_definition_id uuid NOT NULL REFERENCES task_definitions (id) ON DELETE RESTRICT,
      attempt integer NOT NULL CHECK (attempt >= 1),
      status text NOT NULL DEFAULT 'queued' ${oneOf('status', EXECUTION_STATUSES)},
      failure_reason text ${oneOf('failure_reason', FAILURE_REASONS)},
      message text,
      worker_id uuid REFERENCES workers (id) ON DELETE SET NULL,
      worker_session_id uuid,
      target text ${oneOf('target', EXECUTION_TARGETS)},
      work_units double precision,
      cluster_job_id text,
      -- The resolved command: script path first, then every argument, exactly as passed to exec.
      argv text[] NOT NULL DEFAULT '{}',
      expected_exit_code integer NOT NULL DEFAULT 0,
      exit_code integer,
      cpu_seconds double precision,
      peak_memory_mb double precision,
      stdout_path text,
      stderr_path text,
      cancel_requested boolean NOT NULL DEFAULT false,
      queued_at timestamptz NOT NULL DEFAULT now(),
      submitted_at timestamptz,
      started_at timestamptz,
      finished_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (stage_id, tile_id, attempt)
    );
    CREATE INDEX task_executions_tile ON task_executions (tile_id, stage_id, attempt);
    CREATE INDEX task_executions_active ON task_executions (worker_id, status)
      WHERE status IN ('queued', 'submitted', 'running');
    CREATE INDEX task_executions_stage_finished ON task_executions (stage_id, finished_at);
  `);
};

export const down: Migration = async ({ context: sql }) => {
  await sql.query(`
    DROP TABLE task_executions;
    DROP TABLE workers;
    DROP TABLE stage_tile_states;
    DROP TABLE tiles;
    DROP TABLE stages;
    DROP TABLE task_definitions;
    DROP TABLE task_repositories;
    DROP TABLE projects;
    DROP TABLE users;
  `);
};
