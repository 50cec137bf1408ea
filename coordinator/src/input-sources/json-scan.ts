import { InputMalformedError } from './types.js';

/**
 * A streaming walk over a JSON document held in a Buffer, for inputs with hundreds of thousands of elements
 * (MouseLight's pipeline-input.json holds one object per tile). `JSON.parse` of the whole file would build every
 * tile object at once (and needs the file as one JS string); this walk checks the document's structure, yields the
 * byte range of each element of the collections asked for, and parses the small top-level values asked for. Each
 * element is then parsed on its own, so memory stays at one element at a time besides the buffer.
 *
 * Structure is checked at the levels walked (top-level object, collections); inside an element or a header value,
 * `JSON.parse` of its slice does the checking. Values of other keys are skipped by bracket matching.
 */
export interface JsonScanSpec {
  /** Top-level keys whose value is an array of elements, e.g. `tiles`. */
  arrays: ReadonlySet<string>;
  /** Top-level keys whose value is an object of arrays of elements, e.g. dashboard.json's `tileMap`. */
  arrayMaps: ReadonlySet<string>;
  /** Top-level keys whose value is parsed and returned, e.g. `extents`. */
  headers: ReadonlySet<string>;
}

/** One element of a collection: its byte range in the buffer. */
export interface JsonElement {
  /** The top-level key it belongs to, and for array maps the inner key. */
  key: string;
  group: string | null;
  start: number;
  end: number;
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/** Line and column (1-based) of a byte offset, for error messages. */
export function lineColumn(buf: Buffer, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, buf.length);
  for (let i = buf.indexOf(LF, 0); i >= 0 && i < end; i = buf.indexOf(LF, i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

export function malformedAt(
  buf: Buffer,
  offset: number,
  message: string,
  item?: number,
  cause?: unknown,
): InputMalformedError {
  const atEnd = offset >= buf.length;
  const text = atEnd ? `${message}: the file ends too early (still being written?)` : message;
  return new InputMalformedError(text, { offset, ...lineColumn(buf, offset), item }, { cause });
}

function skipWs(buf: Buffer, i: number): number {
  const n = buf.length;
  while (i < n) {
    const c = buf[i];
    if (c === SPACE || c === LF || c === CR || c === TAB) i++;
    else break;
  }
  return i;
}

/** `i` is at an opening quote; returns the offset after the closing quote. */
function skipString(buf: Buffer, i: number): number {
  const n = buf.length;
  for (let j = i + 1; j < n; j++) {
    const c = buf[j];
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j + 1;
  }
  throw malformedAt(buf, n, 'unterminated string');
}

/** `i` is at the first byte of a value; returns the offset after it. */
function skipValue(buf: Buffer, i: number): number {
  const n = buf.length;
  if (i >= n) throw malformedAt(buf, i, 'value expected');
  const first = buf[i];
  if (first === QUOTE) return skipString(buf, i);
  if (first === LBRACE || first === LBRACKET) {
    let depth = 0;
    for (let j = i; j < n; j++) {
      const c = buf[j];
      if (c === QUOTE) {
        // Inline string skip: this loop is the hot path.
        for (j++; j < n; j++) {
          const d = buf[j];
          if (d === BACKSLASH) j++;
          else if (d === QUOTE) break;
        }
      } else if (c === LBRACE || c === LBRACKET) {
        depth++;
      } else if (c === RBRACE || c === RBRACKET) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    throw malformedAt(buf, n, 'unclosed ' + (first === LBRACE ? 'object' : 'array'));
  }
  let j = i;
  while (j < n) {
    const c = buf[j];
    if (c === COMMA || c === RBRACE || c === RBRACKET || c === SPACE || c === LF || c === CR || c === TAB) break;
    j++;
  }
  if (j === i) throw malformedAt(buf, i, `unexpected character "${String.fromCharCode(first)}"`);
  return j;
}

function expect(buf: Buffer, i: number, byte: number, what: string): void {
  if (buf[i] !== byte) {
    const found = i < buf.length ? `"${String.fromCharCode(buf[i])}"` : 'end of file';
    throw malformedAt(buf, i, `${what} expected, found ${found}`);
  }
}

function parseSlice(buf: Buffer, start: number, end: number, what: string): unknown {
  try {
    return JSON.parse(buf.toString('utf8', start, end));
  } catch (e) {
    throw malformedAt(buf, start, `${what}: ${(e as Error).message}`, undefined, e);
  }
}

/** Walks an array of elements starting at `i` (at `[`); yields each element; returns the offset after `]`. */
function* walkArray(buf: Buffer, i: number, key: string, group: string | null): Generator<JsonElement, number> {
  expect(buf, i, LBRACKET, `"${group === null ? key : `${key}.${group}`}" must be an array: "["`);
  i = skipWs(buf, i + 1);
  if (buf[i] === RBRACKET) return i + 1;
  for (;;) {
    const end = skipValue(buf, i);
    yield { key, group, start: i, end };
    i = skipWs(buf, end);
    if (buf[i] === COMMA) {
      i = skipWs(buf, i + 1);
      continue;
    }
    expect(buf, i, RBRACKET, '"," or "]"');
    return i + 1;
  }
}

/**
 * Walks `buf` as one JSON object. Yields the elements of the collections in `spec` as they come; returns the parsed
 * header values once the whole document was checked. Throws {@link InputMalformedError} with the position of the
 * first problem (a truncated file fails at its end).
 */
export function* scanJson(buf: Buffer, spec: JsonScanSpec): Generator<JsonElement, Map<string, unknown>> {
  const headers = new Map<string, unknown>();
  let i = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // UTF-8 byte order mark
  i = skipWs(buf, i);
  expect(buf, i, LBRACE, 'a JSON object "{"');
  i = skipWs(buf, i + 1);
  if (buf[i] === RBRACE) {
    i++;
  } else {
    for (;;) {
      expect(buf, i, QUOTE, 'a key');
      const keyEnd = skipString(buf, i);
      const key = parseSlice(buf, i, keyEnd, 'key') as string;
      i = skipWs(buf, keyEnd);
      expect(buf, i, COLON, '":"');
      i = skipWs(buf, i + 1);
      if (spec.arrays.has(key)) {
        i = yield* walkArray(buf, i, key, null);
      } else if (spec.arrayMaps.has(key)) {
        expect(buf, i, LBRACE, `"${key}" must be an object: "{"`);
        i = skipWs(buf, i + 1);
        if (buf[i] === RBRACE) {
          i++;
        } else {
          for (;;) {
            expect(buf, i, QUOTE, 'a key');
            const groupEnd = skipString(buf, i);
            const group = parseSlice(buf, i, groupEnd, 'key') as string;
            i = skipWs(buf, groupEnd);
            expect(buf, i, COLON, '":"');
            i = skipWs(buf, i + 1);
            i = yield* walkArray(buf, i, key, group);
            i = skipWs(buf, i);
            if (buf[i] === COMMA) {
              i = skipWs(buf, i + 1);
              continue;
            }
            expect(buf, i, RBRACE, '"," or "}"');
            i++;
            break;
          }
        }
      } else {
        const end = skipValue(buf, i);
        if (spec.headers.has(key)) headers.set(key, parseSlice(buf, i, end, `"${key}"`));
        i = end;
      }
      i = skipWs(buf, i);
      if (buf[i] === COMMA) {
        i = skipWs(buf, i + 1);
        continue;
      }
      expect(buf, i, RBRACE, '"," or "}"');
      i++;
      break;
    }
  }
  i = skipWs(buf, i);
  if (i < buf.length) throw malformedAt(buf, i, 'unexpected data after the end of the JSON object');
  return headers;
}

/** Parses one element found by {@link scanJson}. */
export function parseElement(buf: Buffer, el: JsonElement, item: number): unknown {
  try {
    return JSON.parse(buf.toString('utf8', el.start, el.end));
  } catch (e) {
    throw malformedAt(buf, el.start, `item is not valid JSON: ${(e as Error).message}`, item, e);
  }
}
