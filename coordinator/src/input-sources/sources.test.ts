import { describe, expect, it } from 'vitest';
import { createInputSource, InputOptionsError, validateInputOptions } from './sources.js';

describe('validateInputOptions', () => {
  it('fills in defaults', () => {
    expect(validateInputOptions('pipeline-json', {})).toEqual({ ok: true, options: { file: 'pipeline-input.json' } });
    expect(validateInputOptions('dashboard-json', null)).toEqual({ ok: true, options: { file: 'dashboard.json' } });
    expect(validateInputOptions('csv', {})).toEqual({
      ok: true,
      options: { file: 'manifest.csv', delimiter: ',', pathColumn: 'path', xColumn: 'x', yColumn: 'y', zColumn: 'z' },
    });
    expect(validateInputOptions('glob', { pattern: '*.mp4' })).toEqual({
      ok: true,
      options: { pattern: '*.mp4', itemType: 'file', stableSeconds: 2, ignore: [] },
    });
    expect(validateInputOptions('glob', { pattern: '*/*', marker: 'done' })).toMatchObject({
      ok: true,
      options: { itemType: 'directory', marker: 'done' },
    });
  });

  it.each([
    ['nope', {}, 'inputKind'],
    ['pipeline-json', { file: '../x.json' }, 'file'],
    ['pipeline-json', { file: '/etc/x.json' }, 'file'],
    ['pipeline-json', { fiel: 'x.json' }, 'fiel'],
    ['pipeline-json', 'x.json', ''],
    ['csv', { delimiter: ';;' }, 'delimiter'],
    ['csv', { pathColumn: 3 }, 'pathColumn'],
    ['glob', {}, 'pattern'],
    ['glob', { pattern: '../*' }, 'pattern'],
    ['glob', { pattern: '*', marker: 'a/b' }, 'marker'],
    ['glob', { pattern: '*', positionPattern: '(' }, 'positionPattern'],
    ['glob', { pattern: '*', positionPattern: 'x(\\d+)' }, 'positionPattern'],
    ['glob', { pattern: '*', stableSeconds: -1 }, 'stableSeconds'],
    ['glob', { pattern: '*', ignore: 'x' }, 'ignore'],
  ])('refuses %s %j with an error on "%s"', (kind, options, field) => {
    const r = validateInputOptions(kind, options);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field)).toContain(field);
  });

  it('createInputSource throws InputOptionsError with the field errors', () => {
    expect(() => createInputSource('glob', '/tmp', {})).toThrow(InputOptionsError);
  });
});
