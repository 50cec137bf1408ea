/**
 * Sequelize models of the tables created by the migrations (never `sync()`ed: the migrations own the schema).
 * Attributes are camelCase; columns are snake_case (`underscored`). Models are defined per Sequelize instance with
 * `sequelize.define`, so that two connections in one process (tests, API beside the scheduler) never share state.
 */
import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from 'sequelize';
import type {
  ClusterOptions,
  ExecutionStatus,
  ExecutionTarget,
  FailureReason,
  InputKind,
  InputState,
  StageKind,
  TargetPreference,
  TileStatus,
  UserRole,
  WorkerStatus,
} from '@tileflow/shared';

export interface UserModel extends Model<InferAttributes<UserModel>, InferCreationAttributes<UserModel>> {
  id: CreationOptional<string>;
  username: string;
  passwordHash: string;
  role: UserRole;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface ProjectModel extends Model<InferAttributes<ProjectModel>, InferCreationAttributes<ProjectModel>> {
  id: CreationOptional<string>;
  name: string;
  description: CreationOptional<string>;
  rootPath: string;
  logRootPath: CreationOptional<string | null>;
  inputKind: CreationOptional<InputKind>;
  inputOptions: CreationOptional<Record<string, unknown>>;
  inputState: CreationOptional<InputState>;
  inputMessage: CreationOptional<string | null>;
  inputCheckedAt: CreationOptional<Date | null>;
  extentMinX: CreationOptional<number | null>;
  extentMaxX: CreationOptional<number | null>;
  extentMinY: CreationOptional<number | null>;
  extentMaxY: CreationOptional<number | null>;
  extentMinZ: CreationOptional<number | null>;
  extentMaxZ: CreationOptional<number | null>;
  roiMinX: CreationOptional<number | null>;
  roiMaxX: CreationOptional<number | null>;
  roiMinY: CreationOptional<number | null>;
  roiMaxY: CreationOptional<number | null>;
  roiMinZ: CreationOptional<number | null>;
  roiMaxZ: CreationOptional<number | null>;
  skipZ: CreationOptional<number[]>;
  parameters: CreationOptional<Record<string, string>>;
  isProcessing: CreationOptional<boolean>;
  archivedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface TaskRepositoryModel extends Model<
  InferAttributes<TaskRepositoryModel>,
  InferCreationAttributes<TaskRepositoryModel>
> {
  id: CreationOptional<string>;
  name: string;
  location: string;
  description: CreationOptional<string>;
  archivedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface TaskDefinitionModel extends Model<
  InferAttributes<TaskDefinitionModel>,
  InferCreationAttributes<TaskDefinitionModel>
> {
  id: CreationOptional<string>;
  repositoryId: CreationOptional<string | null>;
  name: string;
  description: CreationOptional<string>;
  script: string;
  args: CreationOptional<string[]>;
  expectedExitCode: CreationOptional<number>;
  localWorkUnits: CreationOptional<number>;
  clusterWorkUnits: CreationOptional<number>;
  clusterOptions: CreationOptional<ClusterOptions>;
  timeoutSeconds: CreationOptional<number | null>;
  maxRetries: CreationOptional<number>;
  retryBackoffSeconds: CreationOptional<number>;
  archivedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface StageModel extends Model<InferAttributes<StageModel>, InferCreationAttributes<StageModel>> {
  id: CreationOptional<string>;
  projectId: string;
  parentId: CreationOptional<string | null>;
  name: string;
  description: CreationOptional<string>;
  kind: CreationOptional<StageKind>;
  taskDefinitionId: string;
  outputPath: string;
  target: CreationOptional<TargetPreference>;
  isProcessing: CreationOptional<boolean>;
  /** Bigint as a string (pg returns int8 as text). */
  backfillAfter: CreationOptional<string | null>;
  archivedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface TileModel extends Model<InferAttributes<TileModel>, InferCreationAttributes<TileModel>> {
  /** Bigserial as a string. */
  id: CreationOptional<string>;
  projectId: string;
  relativePath: string;
  tileName: string;
  x: CreationOptional<number | null>;
  y: CreationOptional<number | null>;
  z: CreationOptional<number | null>;
  stepX: CreationOptional<number | null>;
  stepY: CreationOptional<number | null>;
  stepZ: CreationOptional<number | null>;
  isComplete: CreationOptional<boolean>;
  isMissing: CreationOptional<boolean>;
  propagate: CreationOptional<boolean>;
  userData: CreationOptional<Record<string, unknown>>;
  fingerprint: CreationOptional<string>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface StageTileStateModel extends Model<
  InferAttributes<StageTileStateModel>,
  InferCreationAttributes<StageTileStateModel>
> {
  stageId: string;
  tileId: string;
  projectId: string;
  x: CreationOptional<number | null>;
  y: CreationOptional<number | null>;
  z: CreationOptional<number | null>;
  status: CreationOptional<TileStatus>;
  attempts: CreationOptional<number>;
  /** Attempts made before the last resubmit: the retry policy counts from here. */
  retryBase: CreationOptional<number>;
  nextAttemptAt: CreationOptional<Date | null>;
  currentExecutionId: CreationOptional<string | null>;
  propagate: CreationOptional<boolean>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface WorkerModel extends Model<InferAttributes<WorkerModel>, InferCreationAttributes<WorkerModel>> {
  id: CreationOptional<string>;
  name: string;
  sessionId: CreationOptional<string | null>;
  host: CreationOptional<string>;
  status: CreationOptional<WorkerStatus>;
  paused: CreationOptional<boolean>;
  draining: CreationOptional<boolean>;
  inPool: CreationOptional<boolean>;
  localCapacity: CreationOptional<number>;
  clusterCapacity: CreationOptional<number>;
  localLoad: CreationOptional<number>;
  clusterLoad: CreationOptional<number>;
  cpus: CreationOptional<number | null>;
  memoryMb: CreationOptional<number | null>;
  loadAverage: CreationOptional<number | null>;
  version: CreationOptional<string | null>;
  lastHeartbeatAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface TaskExecutionModel extends Model<
  InferAttributes<TaskExecutionModel>,
  InferCreationAttributes<TaskExecutionModel>
> {
  id: CreationOptional<string>;
  projectId: string;
  stageId: string;
  tileId: string;
  taskDefinitionId: string;
  attempt: number;
  status: CreationOptional<ExecutionStatus>;
  failureReason: CreationOptional<FailureReason | null>;
  message: CreationOptional<string | null>;
  workerId: CreationOptional<string | null>;
  workerSessionId: CreationOptional<string | null>;
  target: CreationOptional<ExecutionTarget | null>;
  workUnits: CreationOptional<number | null>;
  clusterJobId: CreationOptional<string | null>;
  argv: CreationOptional<string[]>;
  expectedExitCode: CreationOptional<number>;
  exitCode: CreationOptional<number | null>;
  cpuSeconds: CreationOptional<number | null>;
  peakMemoryMb: CreationOptional<number | null>;
  stdoutPath: CreationOptional<string | null>;
  stderrPath: CreationOptional<string | null>;
  cancelRequested: CreationOptional<boolean>;
  queuedAt: CreationOptional<Date>;
  submittedAt: CreationOptional<Date | null>;
  startedAt: CreationOptional<Date | null>;
  finishedAt: CreationOptional<Date | null>;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

/** Plain attribute objects, as read with `raw: true` or `.get({ plain: true })`. */
export type UserRow = InferAttributes<UserModel>;
export type ProjectRow = InferAttributes<ProjectModel>;
export type TaskRepositoryRow = InferAttributes<TaskRepositoryModel>;
export type TaskDefinitionRow = InferAttributes<TaskDefinitionModel>;
export type StageRow = InferAttributes<StageModel>;
export type TileRow = InferAttributes<TileModel>;
export type StageTileStateRow = InferAttributes<StageTileStateModel>;
export type WorkerRow = InferAttributes<WorkerModel>;
export type TaskExecutionRow = InferAttributes<TaskExecutionModel>;

export interface Models {
  User: ModelStatic<UserModel>;
  Project: ModelStatic<ProjectModel>;
  TaskRepository: ModelStatic<TaskRepositoryModel>;
  TaskDefinition: ModelStatic<TaskDefinitionModel>;
  Stage: ModelStatic<StageModel>;
  Tile: ModelStatic<TileModel>;
  StageTileState: ModelStatic<StageTileStateModel>;
  Worker: ModelStatic<WorkerModel>;
  TaskExecution: ModelStatic<TaskExecutionModel>;
}

// Factories, not shared objects: Sequelize writes into attribute definitions (field names), so each attribute needs
// its own.
const uuidPk = () => ({ type: DataTypes.UUID, primaryKey: true, defaultValue: DataTypes.UUIDV4 });
const stamps = () => ({
  createdAt: { type: DataTypes.DATE, allowNull: false },
  updatedAt: { type: DataTypes.DATE, allowNull: false },
});
const int = () => ({ type: DataTypes.INTEGER, allowNull: true });
const float = () => ({ type: DataTypes.DOUBLE, allowNull: true });
const floatNN = (defaultValue: number) => ({ type: DataTypes.DOUBLE, allowNull: false, defaultValue });

const byInstance = new WeakMap<Sequelize, Models>();

/** Defines (once per Sequelize instance) and returns the models. */
export function getModels(sequelize: Sequelize): Models {
  const known = byInstance.get(sequelize);
  if (known) return known;
  const options = (tableName: string) => ({ tableName, underscored: true, timestamps: true });

  const User = sequelize.define<UserModel>(
    'User',
    {
      id: uuidPk(),
      username: { type: DataTypes.TEXT, allowNull: false },
      passwordHash: { type: DataTypes.TEXT, allowNull: false },
      role: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'operator' },
      ...stamps(),
    },
    options('users'),
  );

  const Project = sequelize.define<ProjectModel>(
    'Project',
    {
      id: uuidPk(),
      name: { type: DataTypes.TEXT, allowNull: false },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      rootPath: { type: DataTypes.TEXT, allowNull: false },
      logRootPath: { type: DataTypes.TEXT, allowNull: true },
      inputKind: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'pipeline-json' },
      inputOptions: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
      inputState: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'unknown' },
      inputMessage: { type: DataTypes.TEXT, allowNull: true },
      inputCheckedAt: { type: DataTypes.DATE, allowNull: true },
      extentMinX: int(),
      extentMaxX: int(),
      extentMinY: int(),
      extentMaxY: int(),
      extentMinZ: int(),
      extentMaxZ: int(),
      roiMinX: int(),
      roiMaxX: int(),
      roiMinY: int(),
      roiMaxY: int(),
      roiMinZ: int(),
      roiMaxZ: int(),
      skipZ: { type: DataTypes.ARRAY(DataTypes.INTEGER), allowNull: false, defaultValue: [] },
      parameters: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
      isProcessing: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      archivedAt: { type: DataTypes.DATE, allowNull: true },
      ...stamps(),
    },
    options('projects'),
  );

  const TaskRepository = sequelize.define<TaskRepositoryModel>(
    'TaskRepository',
    {
      id: uuidPk(),
      name: { type: DataTypes.TEXT, allowNull: false },
      location: { type: DataTypes.TEXT, allowNull: false },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      archivedAt: { type: DataTypes.DATE, allowNull: true },
      ...stamps(),
    },
    options('task_repositories'),
  );

  const TaskDefinition = sequelize.define<TaskDefinitionModel>(
    'TaskDefinition',
    {
      id: uuidPk(),
      repositoryId: { type: DataTypes.UUID, allowNull: true },
      name: { type: DataTypes.TEXT, allowNull: false },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      script: { type: DataTypes.TEXT, allowNull: false },
      args: { type: DataTypes.ARRAY(DataTypes.TEXT), allowNull: false, defaultValue: [] },
      expectedExitCode: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      localWorkUnits: floatNN(1),
      clusterWorkUnits: floatNN(1),
      clusterOptions: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
      timeoutSeconds: int(),
      maxRetries: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      retryBackoffSeconds: floatNN(5),
      archivedAt: { type: DataTypes.DATE, allowNull: true },
      ...stamps(),
    },
    options('task_definitions'),
  );

  const Stage = sequelize.define<StageModel>(
    'Stage',
    {
      id: uuidPk(),
      projectId: { type: DataTypes.UUID, allowNull: false },
      parentId: { type: DataTypes.UUID, allowNull: true },
      name: { type: DataTypes.TEXT, allowNull: false },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      kind: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'map' },
      taskDefinitionId: { type: DataTypes.UUID, allowNull: false },
      outputPath: { type: DataTypes.TEXT, allowNull: false },
      target: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'any' },
      isProcessing: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      backfillAfter: { type: DataTypes.BIGINT, allowNull: true },
      archivedAt: { type: DataTypes.DATE, allowNull: true },
      ...stamps(),
    },
    options('stages'),
  );

  const Tile = sequelize.define<TileModel>(
    'Tile',
    {
      id: { type: DataTypes.BIGINT, primaryKey: true, autoIncrement: true },
      projectId: { type: DataTypes.UUID, allowNull: false },
      relativePath: { type: DataTypes.TEXT, allowNull: false },
      tileName: { type: DataTypes.TEXT, allowNull: false },
      x: int(),
      y: int(),
      z: int(),
      stepX: float(),
      stepY: float(),
      stepZ: float(),
      isComplete: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      isMissing: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      propagate: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      userData: { type: DataTypes.JSONB, allowNull: false, defaultValue: {} },
      fingerprint: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      ...stamps(),
    },
    options('tiles'),
  );

  const StageTileState = sequelize.define<StageTileStateModel>(
    'StageTileState',
    {
      stageId: { type: DataTypes.UUID, primaryKey: true },
      tileId: { type: DataTypes.BIGINT, primaryKey: true },
      projectId: { type: DataTypes.UUID, allowNull: false },
      x: int(),
      y: int(),
      z: int(),
      status: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'incomplete' },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      retryBase: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      nextAttemptAt: { type: DataTypes.DATE, allowNull: true },
      currentExecutionId: { type: DataTypes.UUID, allowNull: true },
      propagate: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      ...stamps(),
    },
    options('stage_tile_states'),
  );

  const Worker = sequelize.define<WorkerModel>(
    'Worker',
    {
      id: uuidPk(),
      name: { type: DataTypes.TEXT, allowNull: false },
      sessionId: { type: DataTypes.UUID, allowNull: true },
      host: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      status: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'starting' },
      paused: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      draining: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      inPool: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      localCapacity: floatNN(1),
      clusterCapacity: floatNN(0),
      localLoad: floatNN(0),
      clusterLoad: floatNN(0),
      cpus: int(),
      memoryMb: int(),
      loadAverage: float(),
      version: { type: DataTypes.TEXT, allowNull: true },
      lastHeartbeatAt: { type: DataTypes.DATE, allowNull: true },
      ...stamps(),
    },
    options('workers'),
  );

  const TaskExecution = sequelize.define<TaskExecutionModel>(
    'TaskExecution',
    {
      id: uuidPk(),
      projectId: { type: DataTypes.UUID, allowNull: false },
      stageId: { type: DataTypes.UUID, allowNull: false },
      tileId: { type: DataTypes.BIGINT, allowNull: false },
      taskDefinitionId: { type: DataTypes.UUID, allowNull: false },
      attempt: { type: DataTypes.INTEGER, allowNull: false },
      status: { type: DataTypes.TEXT, allowNull: false, defaultValue: 'queued' },
      failureReason: { type: DataTypes.TEXT, allowNull: true },
      message: { type: DataTypes.TEXT, allowNull: true },
      workerId: { type: DataTypes.UUID, allowNull: true },
      workerSessionId: { type: DataTypes.UUID, allowNull: true },
      target: { type: DataTypes.TEXT, allowNull: true },
      workUnits: float(),
      clusterJobId: { type: DataTypes.TEXT, allowNull: true },
      argv: { type: DataTypes.ARRAY(DataTypes.TEXT), allowNull: false, defaultValue: [] },
      expectedExitCode: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      exitCode: int(),
      cpuSeconds: float(),
      peakMemoryMb: float(),
      stdoutPath: { type: DataTypes.TEXT, allowNull: true },
      stderrPath: { type: DataTypes.TEXT, allowNull: true },
      cancelRequested: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      queuedAt: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      submittedAt: { type: DataTypes.DATE, allowNull: true },
      startedAt: { type: DataTypes.DATE, allowNull: true },
      finishedAt: { type: DataTypes.DATE, allowNull: true },
      ...stamps(),
    },
    options('task_executions'),
  );

  const models: Models = {
    User,
    Project,
    TaskRepository,
    TaskDefinition,
    Stage,
    Tile,
    StageTileState,
    Worker,
    TaskExecution,
  };
  byInstance.set(sequelize, models);
  return models;
}
