import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveUnder } from '@tileflow/shared';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

async function fileSize(p: string): Promise<number | null> {
  try {
    const st = await fs.stat(p);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

function send(res: ServerResponse, req: IncomingMessage, file: string, size: number, cache: string): void {
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': size,
    'cache-control': cache,
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/**
 * Serves the built web client from `clientDir`: files as they are (hashed assets cached for a year), and
 * index.html for every other path (the client routes in the browser). Paths never leave `clientDir`.
 */
export function createStaticHandler(clientDir: string) {
  return async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('Method not allowed\n');
      return;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(pathname).replace(/^\/+/, '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad path\n');
      return;
    }
    if (relative !== '') {
      let file: string | undefined;
      try {
        file = resolveUnder(clientDir, relative);
      } catch {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
        return;
      }
      const size = await fileSize(file);
      if (size !== null) {
        const immutable = relative.startsWith('assets/');
        send(res, req, file, size, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
        return;
      }
      // A missing file with an extension is a missing asset, not a client route.
      if (path.extname(relative) !== '') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
        return;
      }
    }
    const index = path.join(clientDir, 'index.html');
    const size = await fileSize(index);
    if (size === null) {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end(`The web client is not built (no ${index}): run \`npm run build\`, or set TILEFLOW_CLIENT_DIR.\n`);
      return;
    }
    send(res, req, index, size, 'no-cache');
  };
}
