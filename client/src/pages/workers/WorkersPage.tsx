import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@apollo/client/react';
import { UnreachableCaseError, WorkerStatus } from '@tileflow/shared';
import { workerStatus as workerStatusOf } from '../../api/enums';
import {
  RemoveWorkerDocument,
  UpdateWorkerDocument,
  WorkersDocument,
  type WorkerFieldsFragment,
} from '../../api/generated';
import { formatAgo, formatNumber } from '../../components/format';
import { ActionButton, ActionError, FieldMessage, errorMessage, type FieldErrorList } from '../../components/forms';
import { useNow } from '../../components/hooks';
import { Badge, Empty, LoadBar, Loading, PageHeader, QueryError, type Tone } from '../../components/ui';

export function workerTone(s: WorkerStatus): Tone {
  switch (s) {
    case WorkerStatus.Running:
      return 'good';
    case WorkerStatus.Starting:
      return 'info';
    case WorkerStatus.Paused:
    case WorkerStatus.Draining:
      return 'warn';
    case WorkerStatus.Stopped:
      return 'neutral';
    case WorkerStatus.Unavailable:
      return 'bad';
    default:
      throw new UnreachableCaseError(s);
  }
}

function CapacityForm(props: { worker: WorkerFieldsFragment }) {
  const w = props.worker;
  const [local, setLocal] = useState(String(w.localCapacity));
  const [cluster, setCluster] = useState(String(w.clusterCapacity));
  const [errors, setErrors] = useState<FieldErrorList | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [update, { loading }] = useMutation(UpdateWorkerDocument);
  const dirty = local !== String(w.localCapacity) || cluster !== String(w.clusterCapacity);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(null);
    setSaved(false);
    const l = Number(local);
    const c = Number(cluster);
    // Only what cannot be sent is checked here; ranges are the API's to judge (its errors show beside the inputs).
    const local_: Array<{ field: string; message: string }> = [];
    if (local.trim() === '' || !Number.isFinite(l))
      local_.push({ field: 'localCapacity', message: 'a number of work units' });
    if (cluster.trim() === '' || !Number.isFinite(c))
      local_.push({ field: 'clusterCapacity', message: 'a number of work units' });
    if (local_.length) {
      setErrors(local_);
      return;
    }
    try {
      const r = (await update({ variables: { id: w.id, input: { localCapacity: l, clusterCapacity: c } } })).data
        ?.updateWorker;
      setErrors(r?.errors ?? null);
      if (r?.worker) {
        setLocal(String(r.worker.localCapacity));
        setCluster(String(r.worker.clusterCapacity));
        setSaved(true);
      }
    } catch (err) {
      setFailure(errorMessage(err));
    }
  };
  return (
    <form className="capacity-form" onSubmit={submit} aria-label={`Capacity of ${w.name}`}>
      <label>
        <span className="sr-only">Local capacity of {w.name}</span>
        <input
          name="localCapacity"
          inputMode="decimal"
          value={local}
          onChange={(e) => (setLocal(e.target.value), setSaved(false))}
          title="Local capacity (work units)"
        />
      </label>
      <label>
        <span className="sr-only">Cluster capacity of {w.name}</span>
        <input
          name="clusterCapacity"
          inputMode="decimal"
          value={cluster}
          onChange={(e) => (setCluster(e.target.value), setSaved(false))}
          title="Cluster capacity (work units)"
        />
      </label>
      <button type="submit" className="btn btn-small" disabled={!dirty || loading}>
        Set
      </button>
      {saved && !dirty && <span className="saved small">saved</span>}
      <FieldMessage errors={errors} field="localCapacity" />
      <FieldMessage errors={errors} field="clusterCapacity" />
      <ActionError error={failure} />
    </form>
  );
}

/** Worker daemons: status, load against capacity, and their controls; live from the `workers` event. */
export function WorkersPage() {
  const { data, loading, error, refetch } = useQuery(WorkersDocument);
  const [update] = useMutation(UpdateWorkerDocument);
  const [remove] = useMutation(RemoveWorkerDocument, { refetchQueries: [WorkersDocument] });
  const now = useNow(5000);
  const workers = data?.workers ?? [];

  const set = async (w: WorkerFieldsFragment, input: { inPool?: boolean; paused?: boolean; draining?: boolean }) =>
    (await update({ variables: { id: w.id, input } })).data?.updateWorker.errors;

  return (
    <div className="page">
      <PageHeader
        title="Workers"
        subtitle="Daemons that run tasks locally or submit them to a cluster. Capacities are in work units."
      />
      {error && <QueryError error={error} retry={() => void refetch()} />}
      {loading && !data && <Loading what="workers" />}
      {data && workers.length === 0 && (
        <Empty>No worker has registered yet. Start one with the worker daemon on a machine that sees the data.</Empty>
      )}
      {workers.length > 0 && (
        <table className="table workers-table" data-testid="workers">
          <thead>
            <tr>
              <th>Worker</th>
              <th>Status</th>
              <th>In pool</th>
              <th>Local load</th>
              <th>Cluster load</th>
              <th>Capacity (local / cluster)</th>
              <th>Machine</th>
              <th>Heartbeat</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {workers.map((w) => {
              const status = workerStatusOf(w.status);
              const gone = status === WorkerStatus.Stopped || status === WorkerStatus.Unavailable;
              return (
                <tr key={w.id} data-worker={w.name} data-status={status} data-local-capacity={w.localCapacity}>
                  <td>
                    <strong>{w.name}</strong>
                    <div className="muted small">
                      {w.host}
                      {w.version && ` · v${w.version}`}
                    </div>
                  </td>
                  <td>
                    <Badge tone={workerTone(status)}>{status}</Badge>
                  </td>
                  <td>
                    <label className="switch">
                      <input
                        type="checkbox"
                        aria-label={`${w.name} in pool`}
                        checked={w.inPool}
                        onChange={(e) => void set(w, { inPool: e.target.checked })}
                      />
                      <span>{w.inPool ? 'yes' : 'no'}</span>
                    </label>
                  </td>
                  <td>
                    <LoadBar value={w.localLoad} max={w.localCapacity} label={`${w.name} local load`} />
                  </td>
                  <td>
                    {w.clusterCapacity > 0 ? (
                      <LoadBar value={w.clusterLoad} max={w.clusterCapacity} label={`${w.name} cluster load`} />
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td>
                    <CapacityForm key={`${w.localCapacity}/${w.clusterCapacity}`} worker={w} />
                  </td>
                  <td className="small">
                    {w.cpus ?? '?'} CPUs · {w.memoryMb ? `${formatNumber(w.memoryMb / 1024, 1)} GiB` : '?'}
                    {w.loadAverage !== null && <div className="muted">load {formatNumber(w.loadAverage, 2)}</div>}
                  </td>
                  <td className="small">{formatAgo(w.lastHeartbeatAt, now)}</td>
                  <td className="actions">
                    {status === WorkerStatus.Paused ? (
                      <ActionButton small onRun={() => set(w, { paused: false })}>
                        Resume
                      </ActionButton>
                    ) : (
                      <ActionButton small disabled={gone} onRun={() => set(w, { paused: true })}>
                        Pause
                      </ActionButton>
                    )}
                    {status === WorkerStatus.Draining ? (
                      <ActionButton small onRun={() => set(w, { draining: false })}>
                        Undrain
                      </ActionButton>
                    ) : (
                      <ActionButton
                        small
                        disabled={gone}
                        title="Finish running tasks, take no new ones"
                        onRun={() => set(w, { draining: true })}
                      >
                        Drain
                      </ActionButton>
                    )}
                    {gone && (
                      <ActionButton
                        small
                        variant="danger"
                        onRun={async () => (await remove({ variables: { id: w.id } })).data?.removeWorker.errors}
                      >
                        Remove
                      </ActionButton>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
