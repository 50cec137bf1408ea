CREATE TABLE public.projects (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    root_path text NOT NULL,
    log_root_path text,
    input_kind text DEFAULT 'pipeline-json'::text NOT NULL,
    input_options jsonb DEFAULT '{}'::jsonb NOT NULL,
    input_state text DEFAULT 'unknown'::text NOT NULL,
    input_message text,
    input_checked_at timestamp with time zone,
    extent_min_x integer,
    extent_max_x integer,
    extent_min_y integer,
    extent_max_y integer,
    extent_min_z integer,
    extent_max_z integer,
    roi_min_x integer,
    roi_max_x integer,
    roi_min_y integer,
    roi_max_y integer,
    roi_min_z integer,
    roi_max_z integer,
    skip_z integer[] DEFAULT '{}'::integer[] NOT NULL,
    parameters jsonb DEFAULT '{}'::jsonb NOT NULL,
    is_processing boolean DEFAULT false NOT NULL,
    archived_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT projects_input_kind_check CHECK ((input_kind = ANY (ARRAY['pipeline-json'::text, 'dashboard-json'::text, 'glob'::text, 'csv'::text]))),
    CONSTRAINT projects_input_state_check CHECK ((input_state = ANY (ARRAY['unknown'::text, 'ok'::text, 'missing'::text, 'bad-location'::text, 'malformed'::text]))),
    CONSTRAINT projects_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);

CREATE TABLE public.schema_migrations (
    name character varying(255) NOT NULL
);

CREATE TABLE public.stage_tile_states (
    stage_id uuid NOT NULL,
    tile_id bigint NOT NULL,
    project_id uuid NOT NULL,
    x integer,
    y integer,
    z integer,
    status text DEFAULT 'incomplete'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    retry_base integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone,
    current_execution_id uuid,
    propagate boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stage_tile_states_status_check CHECK ((status = ANY (ARRAY['incomplete'::text, 'waiting'::text, 'queued'::text, 'processing'::text, 'complete'::text, 'failed'::text, 'canceled'::text])))
);

CREATE TABLE public.stages (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid NOT NULL,
    parent_id uuid,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    kind text DEFAULT 'map'::text NOT NULL,
    task_definition_id uuid NOT NULL,
    output_path text NOT NULL,
    target text DEFAULT 'any'::text NOT NULL,
    is_processing boolean DEFAULT true NOT NULL,
    backfill_after bigint,
    archived_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stages_check CHECK (((parent_id IS NULL) OR (parent_id <> id))),
    CONSTRAINT stages_kind_check CHECK ((kind = ANY (ARRAY['map'::text, 'adjacent-x'::text, 'adjacent-y'::text, 'adjacent-z'::text]))),
    CONSTRAINT stages_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT stages_target_check CHECK ((target = ANY (ARRAY['any'::text, 'local'::text, 'cluster'::text])))
);

CREATE TABLE public.task_definitions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    repository_id uuid,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    script text NOT NULL,
    args text[] DEFAULT '{}'::text[] NOT NULL,
    expected_exit_code integer DEFAULT 0 NOT NULL,
    local_work_units double precision DEFAULT 1 NOT NULL,
    cluster_work_units double precision DEFAULT 1 NOT NULL,
    cluster_options jsonb DEFAULT '{}'::jsonb NOT NULL,
    timeout_seconds integer,
    max_retries integer DEFAULT 0 NOT NULL,
    retry_backoff_seconds double precision DEFAULT 5 NOT NULL,
    archived_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT task_definitions_cluster_work_units_check CHECK ((cluster_work_units >= (0)::double precision)),
    CONSTRAINT task_definitions_local_work_units_check CHECK ((local_work_units >= (0)::double precision)),
    CONSTRAINT task_definitions_max_retries_check CHECK ((max_retries >= 0)),
    CONSTRAINT task_definitions_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT task_definitions_retry_backoff_seconds_check CHECK ((retry_backoff_seconds >= (0)::double precision)),
    CONSTRAINT task_definitions_script_check CHECK ((length(script) > 0)),
    CONSTRAINT task_definitions_timeout_seconds_check CHECK (((timeout_seconds IS NULL) OR (timeout_seconds > 0)))
);

CREATE TABLE public.task_executions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    project_id uuid NOT NULL,
    stage_id uuid NOT NULL,
    tile_id bigint NOT NULL,
    task_definition_id uuid NOT NULL,
    attempt integer NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    failure_reason text,
    message text,
    worker_id uuid,
    worker_session_id uuid,
    target text,
    work_units double precision,
    cluster_job_id text,
    argv text[] DEFAULT '{}'::text[] NOT NULL,
    expected_exit_code integer DEFAULT 0 NOT NULL,
    exit_code integer,
    cpu_seconds double precision,
    peak_memory_mb double precision,
    stdout_path text,
    stderr_path text,
    cancel_requested boolean DEFAULT false NOT NULL,
    queued_at timestamp with time zone DEFAULT now() NOT NULL,
    submitted_at timestamp with time zone,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT task_executions_attempt_check CHECK ((attempt >= 1)),
    CONSTRAINT task_executions_failure_reason_check CHECK ((failure_reason = ANY (ARRAY['exit-code'::text, 'timeout'::text, 'out-of-memory'::text, 'script-missing'::text, 'script-not-executable'::text, 'signal'::text, 'node-fail'::text, 'preempted'::text, 'worker-lost'::text, 'submit-failed'::text, 'canceled'::text]))),
    CONSTRAINT task_executions_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'submitted'::text, 'running'::text, 'succeeded'::text, 'failed'::text, 'canceled'::text, 'lost'::text]))),
    CONSTRAINT task_executions_target_check CHECK ((target = ANY (ARRAY['local'::text, 'cluster'::text])))
);

CREATE TABLE public.task_repositories (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    location text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    archived_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT task_repositories_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);

CREATE TABLE public.tiles (
    id bigint NOT NULL,
    project_id uuid NOT NULL,
    relative_path text NOT NULL,
    tile_name text NOT NULL,
    x integer,
    y integer,
    z integer,
    step_x double precision,
    step_y double precision,
    step_z double precision,
    is_complete boolean DEFAULT false NOT NULL,
    is_missing boolean DEFAULT false NOT NULL,
    propagate boolean DEFAULT false NOT NULL,
    user_data jsonb DEFAULT '{}'::jsonb NOT NULL,
    fingerprint text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE SEQUENCE public.tiles_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.tiles_id_seq OWNED BY public.tiles.id;

CREATE TABLE public.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    username text NOT NULL,
    password_hash text NOT NULL,
    role text DEFAULT 'operator'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT users_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'operator'::text, 'viewer'::text]))),
    CONSTRAINT users_username_check CHECK ((username ~ '^[A-Za-z0-9_.@-]{1,64}$'::text))
);

CREATE TABLE public.workers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    session_id uuid,
    host text DEFAULT ''::text NOT NULL,
    status text DEFAULT 'starting'::text NOT NULL,
    paused boolean DEFAULT false NOT NULL,
    draining boolean DEFAULT false NOT NULL,
    in_pool boolean DEFAULT true NOT NULL,
    local_capacity double precision DEFAULT 1 NOT NULL,
    cluster_capacity double precision DEFAULT 0 NOT NULL,
    local_load double precision DEFAULT 0 NOT NULL,
    cluster_load double precision DEFAULT 0 NOT NULL,
    cpus integer,
    memory_mb integer,
    load_average double precision,
    version text,
    last_heartbeat_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT workers_cluster_capacity_check CHECK ((cluster_capacity >= (0)::double precision)),
    CONSTRAINT workers_local_capacity_check CHECK ((local_capacity >= (0)::double precision)),
    CONSTRAINT workers_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT workers_status_check CHECK ((status = ANY (ARRAY['starting'::text, 'running'::text, 'paused'::text, 'draining'::text, 'stopped'::text, 'unavailable'::text])))
);

ALTER TABLE ONLY public.tiles ALTER COLUMN id SET DEFAULT nextval('public.tiles_id_seq'::regclass);

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (name);

ALTER TABLE ONLY public.stage_tile_states
    ADD CONSTRAINT stage_tile_states_pkey PRIMARY KEY (stage_id, tile_id);

ALTER TABLE ONLY public.stages
    ADD CONSTRAINT stages_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.task_definitions
    ADD CONSTRAINT task_definitions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.task_executions
    ADD CONSTRAINT task_executions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.task_executions
    ADD CONSTRAINT task_executions_stage_id_tile_id_attempt_key UNIQUE (stage_id, tile_id, attempt);

ALTER TABLE ONLY public.task_repositories
    ADD CONSTRAINT task_repositories_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.tiles
    ADD CONSTRAINT tiles_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.tiles
    ADD CONSTRAINT tiles_project_id_relative_path_key UNIQUE (project_id, relative_path);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_username_key UNIQUE (username);

ALTER TABLE ONLY public.workers
    ADD CONSTRAINT workers_name_key UNIQUE (name);

ALTER TABLE ONLY public.workers
    ADD CONSTRAINT workers_pkey PRIMARY KEY (id);

CREATE UNIQUE INDEX projects_name_active ON public.projects USING btree (name) WHERE (archived_at IS NULL);

CREATE INDEX stage_tile_states_plane ON public.stage_tile_states USING btree (stage_id, z, y, x);

CREATE INDEX stage_tile_states_propagate ON public.stage_tile_states USING btree (stage_id) WHERE propagate;

CREATE INDEX stage_tile_states_ready ON public.stage_tile_states USING btree (stage_id, status, z, y, x);

CREATE INDEX stage_tile_states_tile ON public.stage_tile_states USING btree (tile_id);

CREATE INDEX stages_parent ON public.stages USING btree (parent_id);

CREATE INDEX stages_project ON public.stages USING btree (project_id) WHERE (archived_at IS NULL);

CREATE INDEX task_executions_active ON public.task_executions USING btree (worker_id, status) WHERE (status = ANY (ARRAY['queued'::text, 'submitted'::text, 'running'::text]));

CREATE INDEX task_executions_stage_finished ON public.task_executions USING btree (stage_id, finished_at);

CREATE INDEX task_executions_tile ON public.task_executions USING btree (tile_id, stage_id, attempt);

CREATE UNIQUE INDEX task_repositories_name_active ON public.task_repositories USING btree (name) WHERE (archived_at IS NULL);

CREATE INDEX tiles_lattice ON public.tiles USING btree (project_id, x, y, z);

CREATE INDEX tiles_plane ON public.tiles USING btree (project_id, z, y, x);

CREATE INDEX tiles_propagate ON public.tiles USING btree (project_id) WHERE propagate;

ALTER TABLE ONLY public.stage_tile_states
    ADD CONSTRAINT stage_tile_states_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.stage_tile_states
    ADD CONSTRAINT stage_tile_states_stage_id_fkey FOREIGN KEY (stage_id) REFERENCES public.stages(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.stage_tile_states
    ADD CONSTRAINT stage_tile_states_tile_id_fkey FOREIGN KEY (tile_id) REFERENCES public.tiles(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.stages
    ADD CONSTRAINT stages_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.stages(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.stages
    ADD CONSTRAINT stages_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.stages
    ADD CONSTRAINT stages_task_definition_id_fkey FOREIGN KEY (task_definition_id) REFERENCES public.task_definitions(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.task_definitions
    ADD CONSTRAINT task_definitions_repository_id_fkey FOREIGN KEY (repository_id) REFERENCES public.task_repositories(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.task_executions
    ADD CONSTRAINT task_executions_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.task_executions
    ADD CONSTRAINT task_executions_stage_id_fkey FOREIGN KEY (stage_id) REFERENCES public.stages(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.task_executions
    ADD CONSTRAINT task_executions_task_definition_id_fkey FOREIGN KEY (task_definition_id) REFERENCES public.task_definitions(id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.task_executions
    ADD CONSTRAINT task_executions_tile_id_fkey FOREIGN KEY (tile_id) REFERENCES public.tiles(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.task_executions
    ADD CONSTRAINT task_executions_worker_id_fkey FOREIGN KEY (worker_id) REFERENCES public.workers(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.tiles
    ADD CONSTRAINT tiles_project_id_fkey FOREIGN KEY (project_id) REFERENCES public.projects(id) ON DELETE CASCADE;
