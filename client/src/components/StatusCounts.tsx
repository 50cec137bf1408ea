import type { StatusCounts as Counts, TileStatus } from '@tileflow/shared';
import { BAR_ORDER, STATUS_COLORS, countsTotal, formatPercent, progressOf, statusLabel } from './status';

/**
 * A stacked bar of a stage's tiles by status, with the share complete. Exposes the numbers for tests and assistive
 * technology: role progressbar with aria-valuenow = complete tiles, and data-counts.
 */
export function ProgressBar(props: { counts: Counts; tiles?: number | null; label?: string; slim?: boolean }) {
  const { counts, tiles, label } = props;
  const { done, total, fraction } = progressOf(counts, tiles);
  const counted = countsTotal(counts);
  const segments = BAR_ORDER.map((s) => {
    // Items not counted in any status yet are still to do: they widen the incomplete segment.
    const n = s === 'incomplete' ? counts[s] + Math.max(0, total - counted) : counts[s];
    return { s, n };
  }).filter((x) => x.n > 0);
  return (
    <div className={`progress${props.slim ? ' progress-slim' : ''}`}>
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label ?? 'Tiles complete'}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={done}
        aria-valuetext={`${done} of ${total} complete`}
        data-counts={JSON.stringify(counts)}
      >
        {segments.map(({ s, n }) => (
          <span
            key={s}
            className="progress-segment"
            data-status={s}
            title={`${statusLabel(s)}: ${n.toLocaleString()}`}
            style={{ width: `${(n / total) * 100}%`, background: STATUS_COLORS[s] }}
          />
        ))}
      </div>
      {!props.slim && (
        <span className="progress-label">
          {formatPercent(fraction)}{' '}
          <span className="muted">
            ({done.toLocaleString()}/{total.toLocaleString()})
          </span>
        </span>
      )}
    </div>
  );
}

/**
 * The counts per status as small labelled chips; zero counts are left out unless `showZero`. With `onSelect`
 * the chips are buttons (filter by status).
 */
export function StatusCounts(props: {
  counts: Counts;
  showZero?: boolean;
  selected?: TileStatus | null;
  onSelect?: (s: TileStatus) => void;
}) {
  const { counts, onSelect, selected } = props;
  const shown = BAR_ORDER.filter((s) => props.showZero || counts[s] > 0);
  return (
    <ul className="status-counts" data-counts={JSON.stringify(counts)}>
      {shown.length === 0 && <li className="muted">No tiles</li>}
      {shown.map((s) => {
        const body = (
          <>
            <span className="dot" style={{ background: STATUS_COLORS[s] }} aria-hidden />
            <span className="status-name">{statusLabel(s)}</span>
            <span className="status-count" data-status-count={s}>
              {counts[s].toLocaleString()}
            </span>
          </>
        );
        return (
          <li key={s}>
            {onSelect ? (
              <button
                type="button"
                className={`chip${selected === s ? ' chip-selected' : ''}`}
                aria-pressed={selected === s}
                onClick={() => onSelect(s)}
              >
                {body}
              </button>
            ) : (
              <span className="chip">{body}</span>
            )}
          </li>
        );
      })}
    </ul>
  );
}
