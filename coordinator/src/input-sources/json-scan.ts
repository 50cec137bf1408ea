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

const START = 0;
const KEY = 1;
const AFTER_VALUE = 2;
const GROUP_KEY = 3;
const AFTER_GROUP = 4;
const ELEMENT = 5;
const AFTER_ELEMENT = 6;
const TAIL = 7;
const END = 8;

/**
 * Pull cursor over `buf` as one JSON object: `next()` moves to the next element of the collections in `spec` and
 * exposes it in `key`, `group`, `start` and `end` (no allocation per element: this is the hot loop of discovery);
 * once it returns false the whole document was checked and `headers` holds the parsed header values. Throws
 * {@link InputMalformedError} with the position of the first problem (a truncated file fails at its end).
 */
export class JsonCursor {
  /** Top-level key of the current element, and for array maps its inner key. */
  key = '';
  group: string | null = null;
  /** Byte range of the current element. */
  start = 0;
  end = 0;
  readonly headers = new Map<string, unknown>();
  private i = 0;
  private state = START;
  private inMap = false;

  constructor(
    private readonly buf: Buffer,
    private readonly spec: JsonScanSpec,
  ) {}

  private readKey(): string {
    const buf = this.buf;
    expect(buf, this.i, QUOTE, 'a key');
    const keyEnd = skipString(buf, this.i);
    const key = parseSlice(buf, this.i, keyEnd, 'key') as string;
    this.i = skipWs(buf, keyEnd);
    expect(buf, this.i, COLON, '":"');
    this.i = skipWs(buf, this.i + 1);
    return key;
  }

  /** At `[`: enters the array; the next state is its first element or what follows it when empty. */
  private openArray(what: string, afterEmpty: number): void {
    const buf = this.buf;
    expect(buf, this.i, LBRACKET, `"${what}" must be an array: "["`);
    this.i = skipWs(buf, this.i + 1);
    if (buf[this.i] === RBRACKET) {
      this.i++;
      this.state = afterEmpty;
    } else {
      this.state = ELEMENT;
    }
  }

  next(): boolean {
    const buf = this.buf;
    for (;;) {
      switch (this.state) {
        case START: {
          let i = 0;
          if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // UTF-8 byte order mark
          i = skipWs(buf, i);
          expect(buf, i, LBRACE, 'a JSON object "{"');
          this.i = skipWs(buf, i + 1);
          if (buf[this.i] === RBRACE) {
            this.i++;
            this.state = TAIL;
          } else {
            this.state = KEY;
          }
          break;
        }
        case KEY: {
          const key = this.readKey();
          if (this.spec.arrays.has(key)) {
            this.key = key;
            this.group = null;
            this.inMap = false;
            this.openArray(key, AFTER_VALUE);
          } else if (this.spec.arrayMaps.has(key)) {
            this.key = key;
            expect(buf, this.i, LBRACE, `"${key}" must be an object: "{"`);
            this.i = skipWs(buf, this.i + 1);
            if (buf[this.i] === RBRACE) {
              this.i++;
              this.state = AFTER_VALUE;
            } else {
              this.state = GROUP_KEY;
            }
          } else {
            const end = skipValue(buf, this.i);
            if (this.spec.headers.has(key)) this.headers.set(key, parseSlice(buf, this.i, end, `"${key}"`));
            this.i = end;
            this.state = AFTER_VALUE;
          }
          break;
        }
        case AFTER_VALUE:
          this.i = skipWs(buf, this.i);
          if (buf[this.i] === COMMA) {
            this.i = skipWs(buf, this.i + 1);
            this.state = KEY;
          } else {
            expect(buf, this.i, RBRACE, '"," or "}"');
            this.i++;
            this.state = TAIL;
          }
          break;
        case GROUP_KEY:
          this.group = this.readKey();
          this.inMap = true;
          this.openArray(`${this.key}.${this.group}`, AFTER_GROUP);
          break;
        case AFTER_GROUP:
          this.i = skipWs(buf, this.i);
          if (buf[this.i] === COMMA) {
            this.i = skipWs(buf, this.i + 1);
            this.state = GROUP_KEY;
          } else {
            expect(buf, this.i, RBRACE, '"," or "}"');
            this.i++;
            this.inMap = false;
            this.state = AFTER_VALUE;
          }
          break;
        case ELEMENT:
          this.start = this.i;
          this.end = skipValue(buf, this.i);
          this.i = this.end;
          this.state = AFTER_ELEMENT;
          return true;
        case AFTER_ELEMENT:
          this.i = skipWs(buf, this.i);
          if (buf[this.i] === COMMA) {
            this.i = skipWs(buf, this.i + 1);
            this.state = ELEMENT;
          } else {
            expect(buf, this.i, RBRACKET, '"," or "]"');
            this.i++;
            this.state = this.inMap ? AFTER_GROUP : AFTER_VALUE;
          }
          break;
        case TAIL:
          this.i = skipWs(buf, this.i);
          if (this.i < buf.length) throw malformedAt(buf, this.i, 'unexpected data after the end of the JSON object');
          this.state = END;
          return false;
        default:
          return false;
      }
    }
  }
}

/**
 * Walks `buf` as one JSON object (see {@link JsonCursor}), yielding each element; returns the parsed header values
 * once the whole document was checked.
 */
export function* scanJson(buf: Buffer, spec: JsonScanSpec): Generator<JsonElement, Map<string, unknown>> {
  const cursor = new JsonCursor(buf, spec);
  while (cursor.next()) yield { key: cursor.key, group: cursor.group, start: cursor.start, end: cursor.end };
  return cursor.headers;
}

/** Parses one element found by {@link scanJson}. */
export function parseElement(buf: Buffer, el: JsonElement, item: number): unknown {
  try {
    return JSON.parse(buf.toString('utf8', el.start, el.end));
  } catch (e) {
    throw malformedAt(buf, el.start, `item is not valid JSON: ${(e as Error).message}`, item, e);
  }
}

/**
 * 53-bit hash of `buf[start, end)` (two 32-bit lanes in the manner of cyrb53), seeded: tells an element that is
 * byte-for-byte the same as last time without parsing it.
 */
export function hashBytes(buf: Buffer, start: number, end: number, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    h1 = Math.imul(h1 ^ b, 2654435761);
    h2 = Math.imul(h2 ^ b, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
