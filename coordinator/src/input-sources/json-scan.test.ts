import { describe, expect, it } from 'vitest';
import { parseElement, scanJson, type JsonScanSpec } from './json-scan.js';
import { InputMalformedError } from './types.js';

const SPEC: JsonScanSpec = {
  arrays: new Set(['tiles']),
  arrayMaps: new Set(['tileMap']),
  headers: new Set(['extents']),
};

/** Scans a document; returns the parsed elements and headers. */
function scan(text: string): { elements: unknown[]; groups: Array<string | null>; headers: Map<string, unknown> } {
  const buf = Buffer.from(text);
  const gen = scanJson(buf, SPEC);
  const elements: unknown[] = [];
  const groups: Array<string | null> = [];
  for (;;) {
    const n = gen.next();
    if (n.done) return { elements, groups, headers: n.value };
    elements.push(parseElement(buf, n.value, elements.length));
    groups.push(n.value.group);
  }
}

function scanError(text: string): InputMalformedError {
  try {
    scan(text);
  } catch (e) {
    if (e instanceof InputMalformedError) return e;
    throw e;
  }
  throw new Error('expected a malformed input');
}

describe('scanJson', () => {
  it('yields array elements and parses the headers asked for, skipping other keys', () => {
    const r = scan(`\ufeff { "other": {"a": [1, "}]"]}, "tiles": [ {"p": "x\\"}{"} , 2, "s", null ],
      "extents": {"minimumX": 3}, "tail": "\\\\" } `);
    expect(r.elements).toEqual([{ p: 'x"}{' }, 2, 's', null]);
    expect(r.headers.get('extents')).toEqual({ minimumX: 3 });
    expect(r.headers.has('other')).toBe(false);
  });

  it('walks an object of arrays (dashboard tileMap) with its group keys', () => {
    const r = scan('{"tileMap": {"0": [{"a":1}], "1": [], "2": [{"a":2},{"a":3}]}}');
    expect(r.elements).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(r.groups).toEqual(['0', '2', '2']);
  });

  it('accepts empty documents and collections', () => {
    expect(scan('{}').elements).toEqual([]);
    expect(scan('{"tiles": [], "tileMap": {}}').elements).toEqual([]);
  });

  it.each([
    ['{"tiles": [{"a": 1}, {"a": 2}', /ends too early/],
    ['{"tiles": [{"a": 1}, {"a": "unterminated', /unclosed object.*ends too early/],
    ['{"tiles": [{"a": 1} {"a": 2}]}', /"," or "\]" expected/],
    ['{"tiles": [{"a": 1},]}', /unexpected character "\]"/],
    ['{"tiles": {"a": 1}}', /"tiles" must be an array/],
    ['{"tiles": []} trailing', /unexpected data after the end/],
    ['[1, 2]', /a JSON object "\{" expected/],
    ['{"tiles": [{"a": tru}]}', /item is not valid JSON/],
    ['{"extents": {"minimumX": }}', /"extents":/],
    ['', /a JSON object "\{" expected, found end of file/],
  ])('reports %j as malformed', (text, message) => {
    expect(scanError(text).message).toMatch(message);
  });

  it('gives the line and column of the problem', () => {
    const e = scanError('{\n  "tiles": [\n    {"a": 1}\n    {"a": 2}\n  ]\n}');
    expect(e.position).toMatchObject({ line: 4, column: 5 });
  });
});
