import type { GraphQLEnumType, GraphQLNamedType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { StageKind, InputKind } from '@tileflow/shared';
import { enumResolvers, graphqlEnumName, sharedEnumValues } from './enums.js';
import { buildSchema } from './schema.js';

describe('GraphQL enums', () => {
  it('maps shared lowercase values to GraphQL names', () => {
    expect(graphqlEnumName(StageKind.AdjacentZ)).toBe('ADJACENT_Z');
    expect(graphqlEnumName(InputKind.PipelineJson)).toBe('PIPELINE_JSON');
    expect(enumResolvers.StageKind).toMatchObject({ ADJACENT_Z: 'adjacent-z', MAP: 'map' });
    expect(enumResolvers.InputKind).toMatchObject({ PIPELINE_JSON: 'pipeline-json', DASHBOARD_JSON: 'dashboard-json' });
  });

  it('lists, for every enum of the schema, exactly the values of its shared list', () => {
    const schema = buildSchema();
    // Duck-typed: vitest may load a second copy of graphql for test files, which breaks isEnumType.
    const isEnum = (t: GraphQLNamedType): t is GraphQLEnumType => t.astNode?.kind === 'EnumTypeDefinition';
    const enums = Object.values(schema.getTypeMap()).filter(isEnum);
    const names = enums.map((e) => e.name).sort();
    expect(names).toEqual(Object.keys(sharedEnumValues).sort());
    for (const e of enums) {
      const internal = e
        .getValues()
        .map((v) => v.value as string)
        .sort();
      expect(internal, e.name).toEqual([...sharedEnumValues[e.name]].sort());
    }
  });
});
