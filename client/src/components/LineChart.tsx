/** A plain SVG line chart: time on x, one line per series, with axes, grid and a legend. */
export interface Series {
  name: string;
  color: string;
  points: ReadonlyArray<{ t: number; v: number | null }>;
}

const W = 640;
const H = 220;
const M = { top: 12, right: 16, bottom: 28, left: 56 };

/** 1, 2, 5 × 10^k steps giving about `count` ticks from 0 to at least `max`. */
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function timeLabel(t: number, spanMs: number): string {
  const d = new Date(t);
  return spanMs > 36 * 3600_000
    ? d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
    : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

export function LineChart(props: {
  title: string;
  series: readonly Series[];
  from: number;
  to: number;
  formatY?: (v: number) => string;
  unit?: string;
}) {
  const { series, from, to } = props;
  const fmt = props.formatY ?? ((v: number) => v.toLocaleString(undefined, { maximumFractionDigits: 2 }));
  const values = series.flatMap((s) => s.points.map((p) => p.v).filter((v): v is number => v !== null));
  const ticks = niceTicks(Math.max(0, ...values));
  const yMax = ticks[ticks.length - 1] || 1;
  const span = Math.max(1, to - from);
  const x = (t: number) => M.left + ((t - from) / span) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const xTicks = Array.from({ length: 5 }, (_, i) => from + (span * i) / 4);
  const empty = values.length === 0;
  return (
    <figure className="chart">
      <figcaption>
        {props.title}
        {props.unit && <span className="muted"> ({props.unit})</span>}
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title} preserveAspectRatio="xMidYMid meet">
        {ticks.map((v) => (
          <g key={v} className="chart-grid">
            <line x1={M.left} x2={W - M.right} y1={y(v)} y2={y(v)} />
            <text x={M.left - 8} y={y(v)} dy="0.32em" textAnchor="end">
              {fmt(v)}
            </text>
          </g>
        ))}
        {xTicks.map((t, i) => (
          <text
            key={t}
            className="chart-xtick"
            x={x(t)}
            y={H - 8}
            textAnchor={i === 0 ? 'start' : i === xTicks.length - 1 ? 'end' : 'middle'}
          >
            {timeLabel(t, span)}
          </text>
        ))}
        <line className="chart-axis" x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} />
        {series.map((s) => {
          // Gaps (null) split the line.
          const runs: Array<Array<{ t: number; v: number }>> = [[]];
          for (const p of [...s.points].sort((a, b) => a.t - b.t)) {
            if (p.v === null) runs.push([]);
            else runs[runs.length - 1].push({ t: p.t, v: p.v });
          }
          return (
            <g key={s.name} className="chart-series" data-series={s.name}>
              {runs
                .filter((r) => r.length > 0)
                .map((r, i) => (
                  <polyline
                    key={i}
                    fill="none"
                    stroke={s.color}
                    strokeWidth={2}
                    points={r.map((p) => `${x(p.t)},${y(p.v)}`).join(' ')}
                  />
                ))}
              {s.points
                .filter((p) => p.v !== null)
                .map((p) => (
                  <circle key={p.t} cx={x(p.t)} cy={y(p.v!)} r={2.5} fill={s.color}>
                    <title>{`${s.name}: ${fmt(p.v!)} at ${new Date(p.t).toLocaleTimeString()}`}</title>
                  </circle>
                ))}
            </g>
          );
        })}
        {empty && (
          <text x={W / 2} y={H / 2} textAnchor="middle" className="chart-empty">
            No data in this period
          </text>
        )}
      </svg>
      {series.length > 0 && (
        <ul className="chart-legend">
          {series.map((s) => (
            <li key={s.name}>
              <span className="swatch" style={{ background: s.color }} /> {s.name}
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}
