/**
 * The domain enums are @tileflow/shared's lowercase values (`adjacent-z`); GraphQL spells them UPPER_CASE
 * (`ADJACENT_Z`). These helpers convert between the two, typed both ways, and the assertions below fail to compile
 * if the schema and the shared enums drift apart.
 */
import {
  EXECUTION_STATUSES,
  FAILURE_REASONS,
  INPUT_KINDS,
  INPUT_STATES,
  STAGE_KINDS,
  TARGET_PREFERENCES,
  TILE_STATUSES,
  WORKER_STATUSES,
  type ExecutionStatus,
  type FailureReason,
  type InputKind,
  type InputState,
  type StageKind,
  type TargetPreference,
  type TileStatus,
  type WorkerStatus,
} from '@tileflow/shared';
import type * as G from './generated';

type ReplaceAll<S extends string, From extends string, To extends string> = S extends `${infer A}${From}${infer B}`
  ? `${A}${To}${ReplaceAll<B, From, To>}`
  : S;

/** The GraphQL spelling of a shared enum value: `adjacent-z` → `ADJACENT_Z`. */
export type GqlName<S extends string> = Uppercase<ReplaceAll<S, '-', '_'>>;

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
/** Compile-time drift checks between coordinator/schema.graphql and @tileflow/shared. */
export type EnumDriftChecks = [
  Assert<Equal<G.TileStatus, GqlName<TileStatus>>>,
  Assert<Equal<G.StageKind, GqlName<StageKind>>>,
  Assert<Equal<G.InputKind, GqlName<InputKind>>>,
  Assert<Equal<G.InputState, GqlName<InputState>>>,
  Assert<Equal<G.ExecutionStatus, GqlName<ExecutionStatus>>>,
  Assert<Equal<G.FailureReason, GqlName<FailureReason>>>,
  Assert<Equal<G.TargetPreference, GqlName<TargetPreference>>>,
  Assert<Equal<G.WorkerStatus, GqlName<WorkerStatus>>>,
];

/** `ADJACENT_Z` → `adjacent-z`, checked against the enum's values. */
function fromGql<T extends string>(values: readonly T[], v: GqlName<T>): T {
  const lower = v.toLowerCase().replace(/_/g, '-');
  if (!(values as readonly string[]).includes(lower)) throw new Error(`Unknown enum value from the API: ${v}`);
  return lower as T;
}

/** `adjacent-z` → `ADJACENT_Z`. */
export function toGql<T extends string>(v: T): GqlName<T> {
  return v.toUpperCase().replace(/-/g, '_') as GqlName<T>;
}

export const tileStatus = (v: G.TileStatus): TileStatus => fromGql(TILE_STATUSES, v);
export const stageKind = (v: G.StageKind): StageKind => fromGql(STAGE_KINDS, v);
export const inputKind = (v: G.InputKind): InputKind => fromGql(INPUT_KINDS, v);
export const inputState = (v: G.InputState): InputState => fromGql(INPUT_STATES, v);
export const executionStatus = (v: G.ExecutionStatus): ExecutionStatus => fromGql(EXECUTION_STATUSES, v);
export const failureReason = (v: G.FailureReason): FailureReason => fromGql(FAILURE_REASONS, v);
export const targetPreference = (v: G.TargetPreference): TargetPreference => fromGql(TARGET_PREFERENCES, v);
export const workerStatus = (v: G.WorkerStatus): WorkerStatus => fromGql(WORKER_STATUSES, v);
