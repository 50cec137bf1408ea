import type { InputHeader, InputItem, InputReading, RejectedItem } from './types.js';

/** A reading whose items were all parsed or listed up front (CSV manifests, glob listings). */
export class ArrayReading implements InputReading {
  readonly status = 'read' as const;

  constructor(
    private readonly list: InputItem[],
    private readonly rejected: RejectedItem[],
    private readonly onCommit: () => void,
    private readonly header: InputHeader = {},
  ) {}

  items(): Iterable<InputItem> {
    return this.list;
  }

  *pick(ordinals: ArrayLike<number>): Generator<InputItem> {
    for (let k = 0; k < ordinals.length; k++) yield this.list[ordinals[k]];
  }

  summary(): { header: InputHeader; rejected: RejectedItem[] } {
    return { header: this.header, rejected: this.rejected };
  }

  commit(): void {
    this.onCommit();
  }
}
