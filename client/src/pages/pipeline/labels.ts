import type { StageKind } from '@tileflow/shared';

export const KIND_LABELS: Readonly<Record<StageKind, string>> = {
  map: 'map',
  'adjacent-x': 'adjacent x',
  'adjacent-y': 'adjacent y',
  'adjacent-z': 'adjacent z',
};
