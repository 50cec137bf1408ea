import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The web client. `@tileflow/shared` resolves to the shared package's browser entry (shared/src/browser.ts, TypeScript source), so the enums and event
 * maps are the very ones the coordinator uses (no copy, no build step first). In development, `/graphql` and
 * `/socket.io` are proxied to the API (TILEFLOW_API_URL, default http://127.0.0.1:4700).
 */
const api = process.env.TILEFLOW_API_URL ?? 'http://127.0.0.1:4700';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  resolve: {
    alias: {
      '@tileflow/shared': fileURLToPath(new URL('../shared/src/browser.ts', import.meta.url)),
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/graphql': api,
      '/healthz': api,
      '/socket.io': { target: api, ws: true },
    },
  },
});
