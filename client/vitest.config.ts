import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';
import react from '@vitejs/plugin-react';

/**
 * Component tests of the web client (jsdom). Usable on its own (`npm test -w @tileflow/client`) and as the
 * `client` project of the root vitest config.
 */
export default defineProject({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  resolve: {
    alias: {
      '@tileflow/shared': fileURLToPath(new URL('../shared/src/browser.ts', import.meta.url)),
    },
  },
  test: {
    name: 'client',
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
  },
});
