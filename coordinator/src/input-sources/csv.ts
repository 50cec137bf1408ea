import { parse } from 'csv-parse/sync';
import { InputKind, InputState } from '@tileflow/shared';
import { ArrayReading } from './array-reading.js';
import { baseName, checkRelativePath } from './item.js';
import { WatchedFile, type FileContent } from './input-file.js';
import { OptionsReader, type OptionsResult } from './options.js';
import {
  InputMalformedError,
  type CsvOptions,
  type InputItem,
  type InputReadResult,
  type InputSource,
  type RejectedItem,
} from './types.js';

/**
 * A CSV manifest (a lab's recording spreadsheet): a header row, then one row per item. The path column gives the
 * item's relative path, optional x/y/z columns its lattice position, an optional column whether it is complete;
 * every other column is kept in `user_data` as text. Rows are parsed with csv-parse (RFC 4180 quoting); a row with
 * a wrong number of fields, an unclosed quote (a half-written last line) or a bad number makes the whole manifest
 * malformed, and nothing is changed.
 *
 * Manifests are expected to hold up to some hundred thousand rows: the parsed rows of one reading are kept in memory
 * between the watcher's two passes.
 */
export const CSV_FILE = 'manifest.csv';

export type ResolvedCsvOptions = Required<Omit<CsvOptions, 'completeColumn'>> & { completeColumn?: string };

export function validateCsvOptions(raw: unknown): OptionsResult<ResolvedCsvOptions> {
  const r = new OptionsReader(raw, [
    'file',
    'delimiter',
    'pathColumn',
    'xColumn',
    'yColumn',
    'zColumn',
    'completeColumn',
  ]);
  const file = r.relativePath('file', CSV_FILE) ?? CSV_FILE;
  const delimiter = r.string('delimiter') ?? ',';
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    r.error('delimiter', 'must be one character other than a quote or a line break');
  }
  const options: ResolvedCsvOptions = {
    file,
    delimiter,
    pathColumn: r.string('pathColumn') ?? 'path',
    xColumn: r.string('xColumn') ?? 'x',
    yColumn: r.string('yColumn') ?? 'y',
    zColumn: r.string('zColumn') ?? 'z',
  };
  const complete = r.string('completeColumn');
  if (complete !== undefined) options.completeColumn = complete;
  return r.result(options);
}

const TRUE = new Set(['true', '1', 'yes', 'y', 't']);
const FALSE = new Set(['false', '0', 'no', 'n', 'f', '']);

function parseManifest(
  root: string,
  content: FileContent,
  o: ResolvedCsvOptions,
): { items: InputItem[]; rejected: RejectedItem[] } {
  const items: InputItem[] = [];
  const rejected: RejectedItem[] = [];
  let header: string[] | undefined;
  let pathAt = -1;
  let xAt = -1;
  let yAt = -1;
  let zAt = -1;
  let completeAt = -1;
  let extra: Array<[number, string]> = [];
  let row = 0;

  const intField = (v: string, column: string, line: number): number | null => {
    const s = v.trim();
    if (s === '') return null;
    if (!/^-?\d+$/.test(s) || Math.abs(Number(s)) > 2147483647) {
      throw new InputMalformedError(`column "${column}" must hold an integer, got ${JSON.stringify(v)}`, {
        line,
        item: row,
      });
    }
    return Number(s);
  };

  const onRecord = (record: string[], info: { lines: number }): null => {
    if (!header) {
      header = record.map((h) => h.trim());
      pathAt = header.indexOf(o.pathColumn);
      if (pathAt < 0) {
        throw new InputMalformedError(`the header has no "${o.pathColumn}" column (found: ${header.join(', ')})`, {
          line: info.lines,
        });
      }
      xAt = header.indexOf(o.xColumn);
      yAt = header.indexOf(o.yColumn);
      zAt = header.indexOf(o.zColumn);
      if (o.completeColumn !== undefined) {
        completeAt = header.indexOf(o.completeColumn);
        if (completeAt < 0) {
          throw new InputMalformedError(`the header has no "${o.completeColumn}" column`, { line: info.lines });
        }
      }
      const used = new Set([pathAt, xAt, yAt, zAt, completeAt]);
      extra = header.map((h, i) => [i, h] as [number, string]).filter(([i]) => !used.has(i));
      return null;
    }
    const line = info.lines;
    const raw = record[pathAt];
    const checked = checkRelativePath(root, raw);
    if ('reason' in checked) {
      rejected.push({ relativePath: raw, reason: checked.reason });
      row++;
      return null;
    }
    let isComplete = true;
    if (completeAt >= 0) {
      const c = record[completeAt].trim().toLowerCase();
      if (TRUE.has(c)) isComplete = true;
      else if (FALSE.has(c)) isComplete = false;
      else {
        throw new InputMalformedError(
          `column "${o.completeColumn}" must be true or false, got ${JSON.stringify(record[completeAt])}`,
          {
            line,
            item: row,
          },
        );
      }
    }
    const userData: Record<string, unknown> = {};
    for (const [i, name] of extra) userData[name] = record[i];
    items.push({
      relativePath: checked.path,
      tileName: baseName(checked.path),
      x: xAt >= 0 ? intField(record[xAt], o.xColumn, line) : null,
      y: yAt >= 0 ? intField(record[yAt], o.yColumn, line) : null,
      z: zAt >= 0 ? intField(record[zAt], o.zColumn, line) : null,
      stepX: null,
      stepY: null,
      stepZ: null,
      isComplete,
      userData,
    });
    row++;
    return null;
  };

  try {
    parse(content.buffer, {
      delimiter: o.delimiter,
      bom: true,
      skip_empty_lines: true,
      relax_column_count: false,
      on_record: onRecord as never,
    });
  } catch (e) {
    if (e instanceof InputMalformedError) throw e;
    const err = e as Error & { code?: string; lines?: number };
    throw new InputMalformedError(`CSV: ${err.message}`, { line: err.lines, item: row }, { cause: e });
  }
  if (!header) throw new InputMalformedError('the manifest is empty: a header row is expected', { line: 1 });
  return { items, rejected };
}

export class CsvInputSource implements InputSource {
  readonly kind = InputKind.Csv;
  private readonly file: WatchedFile;

  constructor(
    private readonly root: string,
    private readonly options: ResolvedCsvOptions,
  ) {
    this.file = new WatchedFile(root, options.file);
  }

  async read(): Promise<InputReadResult> {
    const content = await this.file.read();
    if ('status' in content) return content;
    try {
      const parsed = parseManifest(this.root, content, this.options);
      return new ArrayReading(parsed.items, parsed.rejected, () => this.file.commit(content.signature));
    } catch (e) {
      if (!(e instanceof InputMalformedError)) throw e;
      const message = e.describe();
      this.file.rememberFailure(content.signature, message);
      return { status: 'failed', state: InputState.Malformed, message };
    }
  }
}

export function createCsvSource(root: string, options: ResolvedCsvOptions): InputSource {
  return new CsvInputSource(root, options);
}
