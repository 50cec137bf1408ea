import { InputKind } from '@tileflow/shared';
import type { FieldErrorList } from '../../components/forms';

/** One option of an input kind, as the form shows it. Names and defaults follow coordinator/src/input-sources. */
export interface OptionSpec {
  name: string;
  label: string;
  type: 'text' | 'number' | 'list' | 'select';
  placeholder?: string;
  hint?: string;
  choices?: readonly string[];
  required?: boolean;
}

export const INPUT_KIND_LABELS: Readonly<Record<InputKind, string>> = {
  'pipeline-json': 'MouseLight pipeline-input.json',
  'dashboard-json': 'MouseLight dashboard.json',
  glob: 'Directory scan (glob)',
  csv: 'CSV manifest',
};

export const INPUT_OPTION_SPECS: Readonly<Record<InputKind, readonly OptionSpec[]>> = {
  'pipeline-json': [
    {
      name: 'file',
      label: 'Input file',
      type: 'text',
      placeholder: 'pipeline-input.json',
      hint: 'Relative to the root path.',
    },
  ],
  'dashboard-json': [
    {
      name: 'file',
      label: 'Input file',
      type: 'text',
      placeholder: 'dashboard.json',
      hint: 'Relative to the root path.',
    },
  ],
  glob: [
    {
      name: 'pattern',
      label: 'Pattern',
      type: 'text',
      required: true,
      placeholder: '**/*.mp4',
      hint: 'One item per matching file or folder, relative to the root path.',
    },
    {
      name: 'marker',
      label: 'Marker file',
      type: 'text',
      placeholder: 'tile.done',
      hint: 'Folders count once they hold this file.',
    },
    {
      name: 'itemType',
      label: 'Items are',
      type: 'select',
      choices: ['', 'file', 'directory'],
      hint: 'Default: folders when a marker is set, else files.',
    },
    {
      name: 'positionPattern',
      label: 'Position pattern',
      type: 'text',
      placeholder: 'z(?<z>\\d+)/y(?<y>\\d+)/x(?<x>\\d+)',
      hint: 'A regular expression with named groups x, y, z.',
    },
    {
      name: 'stableSeconds',
      label: 'Stable for (s)',
      type: 'number',
      placeholder: '2',
      hint: 'Size and mtime unchanged this long: finished writing.',
    },
    {
      name: 'ignore',
      label: 'Ignore',
      type: 'list',
      placeholder: '**/tmp/**, *.part',
      hint: 'Comma-separated patterns.',
    },
  ],
  csv: [
    { name: 'file', label: 'Manifest', type: 'text', placeholder: 'manifest.csv', hint: 'Relative to the root path.' },
    { name: 'delimiter', label: 'Delimiter', type: 'text', placeholder: ',' },
    { name: 'pathColumn', label: 'Path column', type: 'text', placeholder: 'path' },
    { name: 'xColumn', label: 'x column', type: 'text', placeholder: 'x' },
    { name: 'yColumn', label: 'y column', type: 'text', placeholder: 'y' },
    { name: 'zColumn', label: 'z column', type: 'text', placeholder: 'z' },
    { name: 'completeColumn', label: 'Complete column', type: 'text', placeholder: 'complete' },
  ],
};

/** The form's strings for a kind's options (unknown keys are dropped: they belong to another kind). */
export function optionsToForm(kind: InputKind, raw: unknown): Record<string, string> {
  const o = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const out: Record<string, string> = {};
  for (const spec of INPUT_OPTION_SPECS[kind]) {
    const v = o[spec.name];
    if (v === undefined || v === null) continue;
    out[spec.name] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** The options object to send: empty fields left out, numbers and lists parsed (bad numbers are sent as typed). */
export function formToOptions(kind: InputKind, form: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of INPUT_OPTION_SPECS[kind]) {
    const v = form[spec.name]?.trim() ?? '';
    if (v === '') continue;
    if (spec.type === 'number') out[spec.name] = Number.isFinite(Number(v)) ? Number(v) : v;
    else if (spec.type === 'list')
      out[spec.name] = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else out[spec.name] = v;
  }
  return out;
}

/** Parses "3, 7, 10-12" into planes; field errors for what does not parse. */
export function parsePlanes(text: string, field: string): { planes: number[]; errors: FieldErrorList } {
  const planes = new Set<number>();
  const errors: Array<{ field: string; message: string }> = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const range = /^(-?\d+)\s*-\s*(-?\d+)$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a || b - a > 100_000) errors.push({ field, message: `"${part}" is not a range from low to high` });
      else for (let z = a; z <= b; z++) planes.add(z);
    } else if (/^-?\d+$/.test(part)) planes.add(Number(part));
    else errors.push({ field, message: `"${part}" is not a plane number or a range like 10-12` });
  }
  return { planes: [...planes].sort((a, b) => a - b), errors };
}

/** Compacts planes back into "3, 7, 10-12". */
export function formatPlanes(planes: readonly number[]): string {
  const sorted = [...planes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i + 1 ? `${sorted[i]}-${sorted[j]}` : j === i + 1 ? `${sorted[i]}, ${sorted[j]}` : `${sorted[i]}`);
    i = j;
  }
  return parts.join(', ');
}
