import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import type { StatusCounts as Counts } from '@tileflow/shared';
import { ProgressBar, StatusCounts } from './StatusCounts';
import { countsFromGql, emptyCounts, formatPercent, progressOf } from './status';

const counts = (c: Partial<Counts>): Counts => ({ ...emptyCounts(), ...c });

describe('progressOf', () => {
  it('divides complete tiles by the larger of the counted rows and the project tiles', () => {
    expect(progressOf(counts({ complete: 25, incomplete: 75 }))).toEqual({ done: 25, total: 100, fraction: 0.25 });
    // A stage that has seen only 40 of 200 items: the rest are still to do.
    expect(progressOf(counts({ complete: 30, processing: 10 }), 200)).toEqual({ done: 30, total: 200, fraction: 0.15 });
    expect(progressOf(emptyCounts(), 0).fraction).toBe(0);
  });

  it('formats shares without rounding up to 100%', () => {
    expect(formatPercent(0.9996)).toBe('99.9%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(0.0004)).toBe('<0.1%');
    expect(formatPercent(0)).toBe('0.0%');
  });

  it('reads GraphQL counts', () => {
    const c = countsFromGql({
      __typename: 'StatusCounts',
      incomplete: 1,
      waiting: 2,
      queued: 3,
      processing: 4,
      complete: 5,
      failed: 6,
      canceled: 7,
    });
    expect(c).toEqual({ incomplete: 1, waiting: 2, queued: 3, processing: 4, complete: 5, failed: 6, canceled: 7 });
  });
});

describe('ProgressBar', () => {
  it('exposes complete over total and draws one segment per non-empty status, proportionally', () => {
    render(
      <ProgressBar
        counts={counts({ complete: 50, failed: 10, processing: 5, incomplete: 15 })}
        tiles={100}
        label="stage A"
      />,
    );
    const bar = screen.getByRole('progressbar', { name: 'stage A' });
    expect(bar.getAttribute('aria-valuenow')).toBe('50');
    expect(bar.getAttribute('aria-valuemax')).toBe('100');
    const widths = Object.fromEntries(
      [...bar.querySelectorAll<HTMLElement>('[data-status]')].map((s) => [s.dataset.status, s.style.width]),
    );
    // The 20 items no status counts yet widen "incomplete" (15 + 20 = 35%).
    expect(widths).toEqual({ complete: '50%', failed: '10%', processing: '5%', incomplete: '35%' });
    expect(screen.getByText(/50\.0%/)).toBeTruthy();
    expect(JSON.parse(bar.getAttribute('data-counts')!).failed).toBe(10);
  });

  it('draws nothing for an empty stage', () => {
    render(<ProgressBar counts={emptyCounts()} tiles={0} />);
    const bar = screen.getByRole('progressbar');
    expect(bar.querySelectorAll('[data-status]')).toHaveLength(0);
    expect(bar.getAttribute('aria-valuetext')).toBe('0 of 0 complete');
  });
});

describe('StatusCounts', () => {
  it('lists non-zero statuses with their numbers, in bar order', () => {
    render(<StatusCounts counts={counts({ incomplete: 3, complete: 1200, failed: 2 })} />);
    const items = [...document.querySelectorAll<HTMLElement>('[data-status-count]')].map((e) => [
      e.dataset.statusCount,
      e.textContent,
    ]);
    expect(items).toEqual([
      ['complete', (1200).toLocaleString()],
      ['failed', '2'],
      ['incomplete', '3'],
    ]);
  });

  it('shows zero counts on request and reports the chosen status', () => {
    const onSelect = vi.fn();
    render(<StatusCounts counts={counts({ failed: 4 })} showZero selected="failed" onSelect={onSelect} />);
    expect(document.querySelectorAll('[data-status-count]')).toHaveLength(7);
    const failed = screen.getByRole('button', { name: /Failed/ });
    expect(failed.getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(screen.getByRole('button', { name: /Queued/ }));
    expect(onSelect).toHaveBeenCalledWith('queued');
  });
});
