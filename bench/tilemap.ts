/**
 * Tile map benchmark: in Debian's Chromium, the web client's tile map (client/src/pages/tilemap) renders a
 * 100 × 100 plane, then applies a burst of 1,000 status changes; both timed inside the page with performance.now(),
 * from "plane data arrived" to the drawn canvas and to the next produced frame. Target: ≤ 300 ms each.
 *
 *   npx tsx bench/tilemap.ts [--iterations 20] [--size 100] [--burst 1000]
 *
 * The page (bench/tilemap-page) is bundled with the client's own Vite config into a temporary folder and served on
 * 127.0.0.1. Prints the figures and writes bench/results/tilemap.json.
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { launchChromium, CHROMIUM, screenshot } from '../test/e2e/browser.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TARGET_MS = 300;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1`);
  return n;
}

const iterations = arg('--iterations', 20);
const size = arg('--size', 100);
const burst = arg('--burst', 1000);
if (burst > size * size) throw new Error('--burst cannot exceed the number of tiles');

interface Timing {
  syncMs: number;
  frameMs: number;
  cells: number;
}

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  const r = (v: number) => Math.round(v * 10) / 10;
  return { median: r(q(0.5)), p95: r(q(0.95)), max: r(s[s.length - 1]), min: r(s[0]) };
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

async function main() {
  const out = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-bench-tilemap-'));
  let server: http.Server | undefined;
  const browser = await launchChromium();
  try {
    await build({
      configFile: path.join(root, 'client', 'vite.config.ts'),
      root: path.join(root, 'bench', 'tilemap-page'),
      base: './',
      logLevel: 'warn',
      build: { outDir: out, emptyOutDir: true, sourcemap: false },
    });
    server = http.createServer((req, res) => {
      const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
      const file = path.join(out, rel);
      if (!file.startsWith(out + path.sep)) return void res.writeHead(404).end();
      fs.readFile(file).then(
        (body) =>
          res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`;

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction('document.title === "ready"');
    const result = (await page.evaluate(`window.tilemapBench.run(${JSON.stringify({ size, burst, iterations })})`)) as {
      render: Timing[];
      burst: Timing[];
      devicePixelRatio: number;
      userAgent: string;
    };
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    // What was measured, for a look: the last plane after its burst.
    await screenshot(page, 'bench-tilemap-100x100');

    // The renderer must have painted what was asked: the whole plane, then exactly the changed cells.
    for (const t of result.render)
      if (t.cells !== size * size) throw new Error(`render painted ${t.cells} cells, not ${size * size}`);
    for (const t of result.burst)
      if (t.cells !== burst) throw new Error(`burst painted ${t.cells} cells, not ${burst}`);

    const render = {
      sync: stats(result.render.map((t) => t.syncMs)),
      frame: stats(result.render.map((t) => t.frameMs)),
    };
    const burstStats = {
      sync: stats(result.burst.map((t) => t.syncMs)),
      frame: stats(result.burst.map((t) => t.frameMs)),
    };
    const report = {
      benchmark: 'tilemap',
      date: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        node: process.version,
        chromium: CHROMIUM,
        userAgent: result.userAgent,
        devicePixelRatio: result.devicePixelRatio,
      },
      plane: { width: size, height: size, tiles: size * size, stages: 3 },
      burstChanges: burst,
      iterations,
      targetMs: TARGET_MS,
      renderPlaneMs: render,
      applyBurstMs: burstStats,
      withinTarget: render.frame.p95 <= TARGET_MS && burstStats.frame.p95 <= TARGET_MS,
      notes:
        'Timed in the page with performance.now() from plane data arrived (GraphQL shape) to canvas drawn (sync) and to two animation frames later (frame). ' +
        'Render: fresh mount, 10,000 cells painted. Burst: the same plane with `burstChanges` tiles changed in the shown stage, only those cells repainted.',
    };
    await fs.mkdir(path.join(root, 'bench', 'results'), { recursive: true });
    await fs.writeFile(path.join(root, 'bench', 'results', 'tilemap.json'), `${JSON.stringify(report, null, 2)}\n`);

    const line = (name: string, s: { sync: ReturnType<typeof stats>; frame: ReturnType<typeof stats> }) =>
      `${name.padEnd(34)} sync median ${String(s.sync.median).padStart(6)} ms  p95 ${String(s.sync.p95).padStart(6)} ms | to frame median ${String(s.frame.median).padStart(6)} ms  p95 ${String(s.frame.p95).padStart(6)} ms  max ${String(s.frame.max).padStart(6)} ms`;
    console.log(
      `Tile map, ${size}×${size} plane, ${iterations} iterations, Chromium ${result.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? '?'}:`,
    );
    console.log(line(`render ${size * size} tiles`, render));
    console.log(line(`apply a burst of ${burst} changes`, burstStats));
    console.log(
      `target ≤ ${TARGET_MS} ms (p95 to frame): ${report.withinTarget ? 'met' : 'NOT met'}; written to bench/results/tilemap.json`,
    );
    if (!report.withinTarget) process.exitCode = 1;
  } finally {
    await browser.close();
    server?.close();
    await fs.rm(out, { recursive: true, force: true });
  }
}

await main();
