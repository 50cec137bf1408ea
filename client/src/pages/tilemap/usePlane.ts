import { useEffect, useRef, useState } from 'react';
import { useApolloClient } from '@apollo/client/react';
import { tileStatus } from '../../api/enums';
import { PlaneDocument } from '../../api/generated';
import type { PlaneTileView } from './geometry';

export interface PlaneData {
  z: number;
  /** Stage ids in the order of each tile's statuses. */
  stageIds: string[];
  tiles: PlaneTileView[];
}

/**
 * One plane of a project, fetched without the Apollo cache (10k tiles would be normalised for nothing), again
 * whenever `revision` moves. One request at a time: changes during a request cause one more request after it, for
 * the newest plane and revision only.
 */
export function usePlane(projectId: string, z: number | null, revision: number) {
  const client = useApolloClient();
  const [plane, setPlane] = useState<PlaneData | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [fetches, setFetches] = useState(0);
  const want = useRef({ projectId, z, revision });
  want.current = { projectId, z, revision };
  const running = useRef(false);
  const done = useRef<string | null>(null);
  const alive = useRef(true);

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  useEffect(() => {
    if (running.current) return;
    const pump = async () => {
      running.current = true;
      try {
        for (;;) {
          const w = want.current;
          const key = `${w.projectId}:${w.z}:${w.revision}`;
          if (!alive.current || w.z === null || done.current === key) return;
          try {
            const { data } = await client.query({
              query: PlaneDocument,
              variables: { id: w.projectId, z: w.z },
              fetchPolicy: 'no-cache',
            });
            done.current = key;
            if (!alive.current) return;
            const p = data?.project;
            if (p && want.current.z === w.z && want.current.projectId === w.projectId) {
              setPlane({
                z: p.plane.z,
                stageIds: p.stages.map((s) => s.id),
                tiles: p.plane.tiles.map((t) => ({
                  tileId: t.tileId,
                  x: t.x,
                  y: t.y,
                  relativePath: t.relativePath,
                  statuses: t.statuses.map(tileStatus),
                })),
              });
              setFetches((n) => n + 1);
            }
            setError(null);
          } catch (e) {
            done.current = key;
            if (alive.current) setError(e);
          }
        }
      } finally {
        running.current = false;
      }
    };
    void pump();
  }, [client, projectId, z, revision]);

  return { plane: plane && plane.z === z ? plane : null, stale: plane, error, fetches };
}
