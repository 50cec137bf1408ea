/**
 * The `tileflow` command line. Talks to the coordinator's GraphQL API (TILEFLOW_URL, with TILEFLOW_TOKEN or
 * TILEFLOW_USER/TILEFLOW_PASSWORD), except `user create`, which writes the database directly so that it can make
 * the first admin. Settings come from the environment or from the repository's .env (found walking up from the
 * current folder). Errors go to stderr with a non-zero exit code.
 */
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import {
  EnvReader,
  INPUT_KINDS,
  STAGE_KINDS,
  TILE_STATUSES,
  USER_ROLES,
  readServicesConfig,
  type StatusCounts,
  type UserRole,
} from '@tileflow/shared';
import { CliError, createApiClient, throwFieldErrors, type ApiClient } from './api-client.js';
import { loadCliEnv } from './env.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads all of standard input (for passwords). */
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** GraphQL enum name of a shared value ('adjacent-z' → ADJACENT_Z). */
const enumName = (v: string) => v.toUpperCase().replace(/-/g, '_');
const lowerName = (v: string) => v.toLowerCase().replace(/_/g, '-');
/** A folder-name-safe form of a display name. */
const slug = (v: string) =>
  v
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'stage';

type FieldErrors = Array<{ field: string; message: string }>;

const COUNT_FIELDS = 'incomplete waiting queued processing complete failed canceled';

export function defaultUrl(env: Record<string, string | undefined>): string {
  return env.TILEFLOW_URL ?? `http://127.0.0.1:${env.TILEFLOW_API_PORT ?? '4700'}`;
}

export function buildProgram(io: CliIo): Command {
  const env = loadCliEnv(io.env, io.cwd);
  let client: ApiClient | undefined;
  const api = (): ApiClient =>
    (client ??= createApiClient(defaultUrl(env), {
      token: env.TILEFLOW_TOKEN,
      // TILEFLOW_USER/TILEFLOW_PASSWORD, else the first admin of .env (TILEFLOW_ADMIN_USER defaults to admin).
      ...(env.TILEFLOW_USER
        ? { username: env.TILEFLOW_USER, password: env.TILEFLOW_PASSWORD }
        : { username: env.TILEFLOW_ADMIN_USER ?? 'admin', password: env.TILEFLOW_ADMIN_PASSWORD }),
    }));
  const print = (line: string) => io.stdout(`${line}\n`);
  const absolute = (p: string) => path.resolve(io.cwd, p);

  const program = new Command('tileflow')
    .description('Tileflow: per-tile processing pipelines for large acquisitions.')
    .addHelpText(
      'after',
      '\nEnvironment (or the repository .env): TILEFLOW_URL (default http://127.0.0.1:4700), TILEFLOW_TOKEN or\n' +
        'TILEFLOW_USER and TILEFLOW_PASSWORD (falling back to TILEFLOW_ADMIN_USER and TILEFLOW_ADMIN_PASSWORD).',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError('(run with --help for usage)');

  // --- project -------------------------------------------------------------------------------------------------
  const project = program.command('project').description('Manage projects.');
  project
    .command('create')
    .description('Create a project and print its id.')
    .requiredOption('--name <name>', 'project name')
    .requiredOption('--root <dir>', 'acquisition root folder (as the coordinator sees it)')
    .addOption(new Option('--input <kind>', 'input kind').choices(INPUT_KINDS).default('pipeline-json'))
    .option('--pattern <glob>', 'glob of the items, relative to the root (input glob), e.g. "*.mp4"')
    .option('--log-root <dir>', 'folder for execution logs (default: beside each stage output)')
    .action(async (o: { name: string; root: string; input: string; pattern?: string; logRoot?: string }) => {
      const input = {
        name: o.name,
        rootPath: absolute(o.root),
        inputKind: enumName(o.input),
        ...(o.pattern !== undefined ? { inputOptions: { pattern: o.pattern } } : {}),
        ...(o.logRoot !== undefined ? { logRootPath: absolute(o.logRoot) } : {}),
      };
      const data = await api().request<{ createProject: { project: { id: string } | null; errors: FieldErrors } }>(
        `mutation CreateProject($input: CreateProjectInput!) {
           createProject(input: $input) { project { id } errors { field message } }
         }`,
        { input },
      );
      throwFieldErrors(data.createProject.errors, 'project create');
      print(data.createProject.project!.id);
    });

  // --- stage ---------------------------------------------------------------------------------------------------
  const stage = program.command('stage').description('Manage stages.');
  stage
    .command('add')
    .description('Add a stage to a project and print its id (reuses the task definition of the same script and args).')
    .requiredOption('--project <id>', 'project id')
    .requiredOption('--name <name>', 'stage name')
    .requiredOption('--script <path>', 'script to run per tile (made absolute from the current folder)')
    .option(
      '--arg <value>',
      'argument after the four standard ones (repeatable; may use ${PARAMETERS}; write --arg=--flag for dashes)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--parent <stageId>', 'parent stage (default: the project input)')
    .addOption(new Option('--kind <kind>', 'when a tile is ready').choices(STAGE_KINDS).default('map'))
    .option('--output <dir>', 'output folder (default: <project root>/../<project name>-<stage name>)')
    .action(
      async (o: {
        project: string;
        name: string;
        script: string;
        arg: string[];
        parent?: string;
        kind: string;
        output?: string;
      }) => {
        const p = await api().request<{ project: { id: string; name: string; rootPath: string } | null }>(
          'query StageProject($id: ID!) { project(id: $id) { id name rootPath } }',
          { id: o.project },
        );
        if (!p.project) throw new CliError(`No project with id "${o.project}": list them with the web UI or the API`);
        const script = absolute(o.script);
        const definitionId = await definitionFor(api(), script, o.arg);
        const outputPath = o.output
          ? absolute(o.output)
          : path.join(path.dirname(p.project.rootPath), `${slug(p.project.name)}-${slug(o.name)}`);
        const data = await api().request<{ createStage: { stage: { id: string } | null; errors: FieldErrors } }>(
          `mutation CreateStage($input: CreateStageInput!) {
             createStage(input: $input) { stage { id } errors { field message } }
           }`,
          {
            input: {
              projectId: o.project,
              parentId: o.parent ?? null,
              name: o.name,
              kind: enumName(o.kind),
              taskDefinitionId: definitionId,
              outputPath,
            },
          },
        );
        throwFieldErrors(data.createStage.errors, 'stage add');
        print(data.createStage.stage!.id);
      },
    );

  // --- start / pause -------------------------------------------------------------------------------------------
  for (const verb of ['start', 'pause'] as const) {
    program
      .command(verb)
      .description(`${verb === 'start' ? 'Start' : 'Pause'} a project, or one stage of it.`)
      .requiredOption('--project <id>', 'project id')
      .option('--stage <id>', 'only this stage')
      .action(async (o: { project: string; stage?: string }) => {
        const Verb = verb === 'start' ? 'start' : 'pause';
        if (o.stage) {
          const field = `${Verb}Stage`;
          const data = await api().request<
            Record<string, { stage: { id: string; isProcessing: boolean } | null; errors: FieldErrors }>
          >(`mutation Stage($id: ID!) { ${field}(id: $id) { stage { id isProcessing } errors { field message } } }`, {
            id: o.stage,
          });
          throwFieldErrors(data[field].errors, `${verb} --stage`);
          print(`stage ${o.stage} ${data[field].stage!.isProcessing ? 'processing' : 'paused'}`);
        } else {
          const field = `${Verb}Project`;
          const data = await api().request<
            Record<string, { project: { id: string; isProcessing: boolean } | null; errors: FieldErrors }>
          >(
            `mutation Project($id: ID!) { ${field}(id: $id) { project { id isProcessing } errors { field message } } }`,
            { id: o.project },
          );
          throwFieldErrors(data[field].errors, verb);
          print(`project ${o.project} ${data[field].project!.isProcessing ? 'processing' : 'paused'}`);
        }
      });
  }

  // --- status --------------------------------------------------------------------------------------------------
  program
    .command('status')
    .description('Tile counts per stage of a project (a table, or one JSON object with --json).')
    .requiredOption('--project <id>', 'project id')
    .option('--json', 'print {"tiles":n,"stages":[{"id","name","counts":{…}}]}')
    .action(async (o: { project: string; json?: boolean }) => {
      const data = await api().request<{
        project: {
          id: string;
          name: string;
          isProcessing: boolean;
          inputState: string;
          tileCount: number;
          stages: Array<{ id: string; name: string; kind: string; parentId: string | null; isProcessing: boolean }>;
          stageCounts: Array<{ stageId: string; counts: StatusCounts }>;
        } | null;
      }>(
        `query Status($id: ID!) {
           project(id: $id) {
             id name isProcessing inputState tileCount
             stages { id name kind parentId isProcessing }
             stageCounts { stageId counts { ${COUNT_FIELDS} } }
           }
         }`,
        { id: o.project },
      );
      const p = data.project;
      if (!p) throw new CliError(`No project with id "${o.project}"`);
      const counts = new Map(p.stageCounts.map((c) => [c.stageId, c.counts]));
      const stages = p.stages.map((s) => ({
        id: s.id,
        name: s.name,
        kind: lowerName(s.kind),
        parentId: s.parentId,
        isProcessing: s.isProcessing,
        counts: counts.get(s.id)!,
      }));
      if (o.json) {
        print(
          JSON.stringify({
            tiles: p.tileCount,
            project: { id: p.id, name: p.name, isProcessing: p.isProcessing, inputState: lowerName(p.inputState) },
            stages,
          }),
        );
        return;
      }
      print(
        `${p.name} (${p.id}): ${p.isProcessing ? 'processing' : 'paused'}, input ${lowerName(p.inputState)}, ${p.tileCount} tiles`,
      );
      const header = ['STAGE', 'ID', ...TILE_STATUSES.map((s) => s.toUpperCase())];
      const rows = stages.map((s) => [
        `${s.name}${s.isProcessing ? '' : ' (paused)'}`,
        s.id,
        ...TILE_STATUSES.map((st) => String(s.counts[st])),
      ]);
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      for (const r of [header, ...rows]) {
        print(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
      }
    });

  // --- resubmit ------------------------------------------------------------------------------------------------
  program
    .command('resubmit')
    .description('Run tiles of a stage again: every failed one, or the given relative paths.')
    .requiredOption('--stage <id>', 'stage id')
    .option('--failed', 'every failed tile of the stage')
    .option('--tile <relativePath...>', 'tiles by relative path (one or more)')
    .action(async (o: { stage: string; failed?: boolean; tile?: string[] }) => {
      if (Boolean(o.failed) === Boolean(o.tile?.length)) {
        throw new CliError('resubmit: give either --failed or --tile RELATIVE_PATH... (one of them)', 2);
      }
      let result: { count: number; errors: FieldErrors };
      if (o.failed) {
        const data = await api().request<{ resubmitTiles: { count: number; errors: FieldErrors } }>(
          `mutation Resubmit($stageId: ID!) {
             resubmitTiles(stageId: $stageId, status: FAILED) { count errors { field message } }
           }`,
          { stageId: o.stage },
        );
        result = data.resubmitTiles;
      } else {
        const data = await api().request<{ resubmitTilePaths: { count: number; errors: FieldErrors } }>(
          `mutation ResubmitPaths($stageId: ID!, $paths: [String!]!) {
             resubmitTilePaths(stageId: $stageId, relativePaths: $paths) { count errors { field message } }
           }`,
          { stageId: o.stage, paths: o.tile },
        );
        result = data.resubmitTilePaths;
      }
      throwFieldErrors(result.errors, 'resubmit');
      print(`resubmitted ${result.count} tile(s)`);
    });

  // --- user ----------------------------------------------------------------------------------------------------
  const user = program.command('user').description('Manage users (directly in the database).');
  user
    .command('create')
    .description(
      'Create a user in the database named by TILEFLOW_DB_* (this is how to make the first admin). The password ' +
        'comes from TILEFLOW_NEW_PASSWORD or the first line of standard input.',
    )
    .requiredOption('--name <username>', 'user name')
    .addOption(new Option('--role <role>', 'role').choices(USER_ROLES).makeOptionMandatory())
    .action(async (o: { name: string; role: UserRole }) => {
      const password = env.TILEFLOW_NEW_PASSWORD ?? (await io.readStdin()).split(/\r?\n/)[0];
      if (!password) {
        throw new CliError('No password: set TILEFLOW_NEW_PASSWORD or pipe it on standard input', 2);
      }
      const db = readServicesConfig(new EnvReader(env)).db;
      // Loaded here: the other commands need no database driver, and start faster without it.
      const [{ createSequelize }, { createUser }] = await Promise.all([
        import('../db/connection.js'),
        import('../auth/users.js'),
      ]);
      const sequelize = createSequelize(db);
      try {
        const result = await createUser(sequelize, { username: o.name, password, role: o.role });
        throwFieldErrors(result.errors, 'user create');
        print(`created ${o.role} "${o.name}" (${result.user!.id})`);
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(
          `Cannot write the database ${db.user}@${db.host}:${db.port}/${db.database}: ${(err as Error).message}`,
        );
      } finally {
        await sequelize.close();
      }
    });

  return program;
}

/** The task definition to use for a script and its arguments: an existing live one, or a new one. */
async function definitionFor(api: ApiClient, script: string, args: string[]): Promise<string> {
  const data = await api.request<{ taskDefinitions: Array<{ id: string; scriptPath: string; args: string[] }> }>(
    'query Definitions { taskDefinitions { id scriptPath args } }',
  );
  const same = data.taskDefinitions.find(
    (d) => d.scriptPath === script && d.args.length === args.length && d.args.every((a, i) => a === args[i]),
  );
  if (same) return same.id;
  const created = await api.request<{
    createTaskDefinition: { definition: { id: string } | null; errors: FieldErrors };
  }>(
    `mutation CreateDefinition($input: TaskDefinitionInput!) {
       createTaskDefinition(input: $input) { definition { id } errors { field message } }
     }`,
    { input: { name: path.basename(script), script, args } },
  );
  throwFieldErrors(created.createTaskDefinition.errors, 'stage add (task definition)');
  return created.createTaskDefinition.definition!.id;
}

/** Runs the CLI; returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      io.stderr(`tileflow: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`tileflow: ${(err as Error).message}\n`);
    return 1;
  }
}
