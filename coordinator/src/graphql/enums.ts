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
import { LOG_STREAMS } from './modules/executions/log.js';

/** GraphQL name of a shared enum value: 'adjacent-z' → ADJACENT_Z, 'pipeline-json' → PIPELINE_JSON. */
export const graphqlEnumName = (value: string): string => value.toUpperCase().replace(/-/g, '_');

const internal = (values: readonly string[]) => Object.fromEntries(values.map((v) => [graphqlEnumName(v), v]));

/**
 * Enum resolvers: the GraphQL enums carry the lowercase values of @tileflow/shared inside the server, so resolvers
 * and services use the shared types directly. A test checks both sides list the same values.
 */
export const sharedEnumValues: Record<string, readonly string[]> = {
  TileStatus: TILE_STATUSES,
  StageKind: STAGE_KINDS,
  InputKind: INPUT_KINDS,
  InputState: INPUT_STATES,
  ExecutionStatus: EXECUTION_STATUSES,
  FailureReason: FAILURE_REASONS,
  ExecutionTarget: EXECUTION_TARGETS,
  TargetPreference: TARGET_PREFERENCES,
  WorkerStatus: WORKER_STATUSES,
  UserRole: USER_ROLES,
  LogStream: LOG_STREAMS,
};

export const enumResolvers = Object.fromEntries(
  Object.entries(sharedEnumValues).map(([name, values]) => [name, internal(values)]),
);
