import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/react';

// jsdom has no 2D canvas: components draw nothing there (tests that check drawing pass their own context).
// (Files that run in the node environment, like the codegen drift test, have no DOM at all.)
if (typeof HTMLCanvasElement !== 'undefined') {
  HTMLCanvasElement.prototype.getContext = (() => null) as unknown as HTMLCanvasElement['getContext'];
  afterEach(() => {
    cleanup();
    localStorage.clear();
  });
}
