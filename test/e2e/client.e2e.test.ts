/**
 * The web client end to end: Debian's Chromium (playwright-core) against a whole Tileflow (test/stack.ts) with one
 * worker daemon, on a synthetic 4 × 4 × 3 acquisition and two small real scripts. The steps build on each other:
 * sign in, set up tasks, create the project, add stages from the graph, start it and watch the tile map fill in by
 * push, hold a paused stage, make it fail, resubmit failed tiles by box selection, change a worker's capacity.
 * Every page is saved to test-results/screenshots/.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { StatusCounts } from '@tileflow/shared';
import { SyntheticAcquisition } from '../../coordinator/src/tools/synth.js';
import type { Daemon } from '../../worker/src/daemon.js';
import { startStack, type Stack } from '../stack.js';
import { launchChromium, screenshot, screenshotDir, watchErrors } from './browser.js';
import { ensureClientBuilt } from './client-build.js';

const X = 4;
const Y = 4;
const Z = 3;
const TILES = X * Y * Z;
const PER_PLANE = X * Y;
const WORKER = 'e2e-worker';
/** Long enough for any step on a loaded 2-core machine; the steps wait for states, never for times. */
const STEP_MS = 90_000;

let stack: Stack;
let browser: Browser;
let page: Page;
let dir: string;
let flag: string;
let worker: Daemon;
let errors: string[];
let projectId: string;

const OK_SCRIPT = `#!/bin/sh
# argv: src_path dst_path relative_path tile_name x
set -eu
echo "processing $4 (x=$5)"
mkdir -p "$2"
echo "$3" > "$2/$4.done"
`;

const FLAKY_SCRIPT = `#!/bin/sh
# argv: src_path dst_path relative_path tile_name flag_file
set -eu
if [ -e "$5" ]; then
  echo "failing on purpose: $5 exists" >&2
  exit 3
fi
echo "second stage ok for $4"
`;

/** Client-side navigation (no reload): the app's router listens to popstate. */
async function go(to: string): Promise<void> {
  await page.evaluate(
    `history.pushState(null, '', ${JSON.stringify(to)}); dispatchEvent(new PopStateEvent('popstate'));`,
  );
}

async function mapCounts(): Promise<StatusCounts & { z: number; revision: number }> {
  const el = page.getByTestId('tilemap');
  const [counts, z, revision] = await Promise.all([
    el.getAttribute('data-counts'),
    el.getAttribute('data-z'),
    el.getAttribute('data-revision'),
  ]);
  return { ...(JSON.parse(counts ?? '{}') as StatusCounts), z: Number(z), revision: Number(revision) };
}

async function stageCounts(
  projectName: string,
): Promise<Record<string, StatusCounts & { id: string; isProcessing: boolean }>> {
  const r = await stack.graphql<{
    projects: Array<{
      name: string;
      stages: Array<{ id: string; name: string; isProcessing: boolean; counts: StatusCounts }>;
    }>;
  }>(
    '{ projects { name stages { id name isProcessing counts { incomplete waiting queued processing complete failed canceled } } } }',
  );
  const p = r.data?.projects.find((x) => x.name === projectName);
  if (!p) throw new Error(`no project ${projectName}: ${JSON.stringify(r)}`);
  return Object.fromEntries(p.stages.map((s) => [s.name, { ...s.counts, id: s.id, isProcessing: s.isProcessing }]));
}

async function executionsOf(stageId: string): Promise<number> {
  const r = await stack.graphql<{ stage: { tiles: { items: Array<{ attempts: number }> } } }>(
    'query($id: ID!) { stage(id: $id) { tiles(limit: 1000) { items { attempts } } } }',
    { id: stageId },
  );
  return (r.data?.stage.tiles.items ?? []).reduce((n, t) => n + t.attempts, 0);
}

beforeAll(async () => {
  ensureClientBuilt();
  // This file's screenshots (NN-name.png) from an earlier run, so that the folder shows this run only.
  for (const f of await fs.readdir(screenshotDir).catch(() => [] as string[])) {
    if (/^\d\d-.*\.png$/.test(f)) await fs.rm(path.join(screenshotDir, f));
  }
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tileflow-e2e-'));
  const acq = new SyntheticAcquisition({
    root: path.join(dir, 'acquisition'),
    format: 'pipeline-json',
    x: X,
    y: Y,
    z: Z,
  });
  await acq.writeAll();
  await fs.mkdir(path.join(dir, 'tasks'));
  await fs.writeFile(path.join(dir, 'tasks', 'ok.sh'), OK_SCRIPT, { mode: 0o755 });
  await fs.writeFile(path.join(dir, 'tasks', 'flaky.sh'), FLAKY_SCRIPT, { mode: 0o755 });
  flag = path.join(dir, 'fail.flag');
  stack = await startStack();
  worker = await stack.startWorker({ name: WORKER, localCapacity: 2 });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
  page.setDefaultTimeout(STEP_MS);
  errors = watchErrors(page);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
}, 60_000);

describe('web client', { timeout: 4 * STEP_MS }, () => {
  it('signs in, showing a wrong password next to the form', async () => {
    await page.goto(`${stack.url}/projects`);
    await page.waitForURL(/\/signin\?next=%2Fprojects$/);
    await screenshot(page, '01-sign-in');
    await page.getByLabel('User name').fill(stack.admin.username);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').count()).toBeGreaterThan(0);
    await page.getByLabel('Password').fill(stack.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back where we were going, signed in, token kept for reloads.
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/projects');
    expect(await page.evaluate('localStorage.getItem("tileflow.token")')).toBeTruthy();
    await page.reload();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await go('/');
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.locator('[data-testid="connection"][data-connected="true"]').waitFor();
  });

  it('sets up a task repository and two definitions with argument chips', async () => {
    await go('/tasks');
    await page.getByRole('button', { name: 'New repository' }).click();
    await page.locator('input[name="repoName"]').fill('e2e scripts');
    // A relative location is refused next to its field.
    await page.locator('input[name="repoLocation"]').fill('relative/path');
    await page.getByRole('button', { name: 'Create repository' }).click();
    await page.locator('.field-error[data-field="location"]').waitFor();
    await page.locator('input[name="repoLocation"]').fill(path.join(dir, 'tasks'));
    await page.getByRole('button', { name: 'Create repository' }).click();
    await page.getByRole('button', { name: 'e2e scripts' }).waitFor();

    await page.getByRole('button', { name: 'New definition' }).click();
    const editor = page.getByTestId('definition-editor');
    await editor.locator('input[name="definitionName"]').fill('ok');
    await editor.locator('input[name="script"]').fill('ok.sh');
    await editor.getByRole('button', { name: 'Insert parameter X', exact: true }).click();
    await expect.poll(() => editor.locator('.arg [data-parameter="X"]').count()).toBe(1);
    await screenshot(page, '02-definition-editor');
    await editor.getByRole('button', { name: 'Create definition' }).click();
    await page.locator('tr[data-definition="ok"]').waitFor();

    await page.getByRole('button', { name: 'New definition' }).click();
    await editor.locator('input[name="definitionName"]').fill('flaky');
    await editor.locator('input[name="script"]').fill('flaky.sh');
    await editor.getByRole('textbox', { name: 'New argument' }).fill(flag);
    await editor.getByRole('textbox', { name: 'New argument' }).press('Enter');
    await editor.getByRole('button', { name: 'Create definition' }).click();
    await page.locator('tr[data-definition="flaky"]').waitFor();

    // The script check of a saved definition: exists and executable, and its text.
    await page.locator('tr[data-definition="ok"]').getByRole('button', { name: 'ok' }).click();
    await editor.getByRole('button', { name: 'Check and view script' }).click();
    await editor.getByLabel('Script contents').waitFor();
    expect(await editor.getByLabel('Script contents').textContent()).toContain('processing $4');
    const check = editor.getByTestId('script-check');
    expect(await check.getAttribute('data-exists')).toBe('true');
    expect(await check.getAttribute('data-executable')).toBe('true');
    await screenshot(page, '03-definition-script-check');
    await page.keyboard.press('Escape');
    await screenshot(page, '04-tasks');
  });

  it('creates a project on the synthetic acquisition, field errors first', async () => {
    await go('/projects');
    await page.getByRole('link', { name: 'New project' }).click();
    await page.locator('input[name="name"]').fill('e2e acquisition');
    await page.locator('input[name="rootPath"]').fill('relative/root');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.locator('.field-error[data-field="rootPath"]').waitFor();
    await screenshot(page, '05-project-form-error');
    await page.locator('input[name="rootPath"]').fill(path.join(dir, 'acquisition'));
    await page.locator('input[name="roi-maxZ"]').fill('x');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.locator('.field-error[data-field="regionOfInterest.maxZ"]').waitFor();
    await page.locator('input[name="roi-maxZ"]').fill('');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]+\/pipeline$/);
    projectId = /\/projects\/([0-9a-f-]+)\/pipeline$/.exec(page.url())![1];
    // The input source records every tile (pushed counts on the input node).
    await expect.poll(() => page.getByTestId('tile-count').textContent(), { timeout: STEP_MS }).toBe(String(TILES));
    await go(
      page
        .url()
        .replace(/\/pipeline$/, '/settings')
        .replace(stack.url, ''),
    );
    await page.locator('[data-testid="input-status"]').waitFor();
    await screenshot(page, '06-project-settings');
  });

  it("duplicates the project, edits the copy's input options with errors beside them, and archives it", async () => {
    page.on('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Duplicate…' }).click();
    await page.locator('input[name="duplicateName"]').fill('e2e copy');
    await page.getByRole('button', { name: 'Duplicate', exact: true }).click();
    await page.waitForURL((u) => u.pathname.endsWith('/settings') && !u.pathname.includes(projectId));
    await page.getByRole('heading', { name: 'e2e copy' }).waitFor();
    // A directory scan needs a pattern: the API says so next to the option.
    await page.locator('select[name="inputKind"]').selectOption('glob');
    await page.locator('input[name="skippedZPlanes"]').fill('1, 5-6');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.field-error[data-field="inputOptions.pattern"]').waitFor();
    await screenshot(page, '07-project-input-options-error');
    await page.locator('input[name="option-pattern"]').fill('z*/y*/*/*.tif');
    await page.locator('input[name="option-stableSeconds"]').fill('0');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const r = await stack.graphql<{
      projects: Array<{ name: string; inputKind: string; inputOptions: unknown; skippedZPlanes: number[] }>;
    }>('{ projects { name inputKind inputOptions skippedZPlanes } }');
    expect(r.data?.projects.find((p) => p.name === 'e2e copy')).toMatchObject({
      inputKind: 'GLOB',
      inputOptions: { pattern: 'z*/y*/*/*.tif', stableSeconds: 0 },
      skippedZPlanes: [1, 5, 6],
    });
    await page.getByRole('button', { name: 'Archive' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(await page.locator('tr[data-project="e2e copy"]').count()).toBe(0);
  });

  it('adds two stages from the graph and pauses the second', async () => {
    await go(`/projects/${projectId}/pipeline`);
    await page.getByRole('button', { name: '+ Stage' }).click();
    const drawer = page.getByTestId('stage-drawer');
    await drawer.locator('input[name="stageName"]').fill('first');
    await drawer.locator('select[name="taskDefinition"]').selectOption({ label: 'ok (ok.sh)' });
    await drawer.locator('input[name="outputPath"]').fill(path.join(dir, 'out', 'first'));
    await drawer.getByRole('button', { name: 'Add stage' }).click();
    await page.locator('[data-stage="first"]').waitFor();

    await page.getByRole('button', { name: 'Add a stage after first' }).click();
    await drawer.locator('input[name="stageName"]').fill('second');
    await drawer.locator('select[name="taskDefinition"]').selectOption({ label: 'flaky (flaky.sh)' });
    await drawer.locator('input[name="outputPath"]').fill(path.join(dir, 'out', 'second'));
    await screenshot(page, '08-add-stage');
    await drawer.getByRole('button', { name: 'Add stage' }).click();
    await page.locator('[data-stage="second"]').waitFor();

    await page.getByTestId('pause-stage-second').click();
    await page.locator('[data-stage="second"][data-processing="false"]').waitFor();
    const stages = await stageCounts('e2e acquisition');
    expect(stages.second.isProcessing).toBe(false);
    expect(stages.first.isProcessing).toBe(true);
  });

  it('starts the project and the tile map turns complete by push, without reloading', async () => {
    await page.getByTestId('start-project').click();
    await page.getByTestId('pause-project').waitFor();
    // Marks this document: a reload would lose it.
    await page.evaluate('window.__tileflowE2E = "same document"');
    await page.getByRole('link', { name: 'Tile map' }).click();
    await page.getByLabel('Stage shown').selectOption({ label: 'first' });
    await page.getByTestId('tilemap').waitFor();
    const before = await mapCounts();
    expect(before.z).toBe(0);
    await expect.poll(async () => (await mapCounts()).complete, { timeout: STEP_MS }).toBe(PER_PLANE);
    const after = await mapCounts();
    // The plane was fetched again on planesChanged pushes, in the same document.
    expect(after.revision).toBeGreaterThan(before.revision);
    expect(await page.evaluate('window.__tileflowE2E')).toBe('same document');
    await screenshot(page, '09-tile-map');

    // The last plane, through the plane slider.
    await page.getByRole('slider', { name: 'Plane' }).fill(String(Z - 1));
    await expect.poll(async () => (await mapCounts()).z).toBe(Z - 1);
    await expect.poll(async () => (await mapCounts()).complete, { timeout: STEP_MS }).toBe(PER_PLANE);
  });

  it('holds the paused stage while its parent completes every tile', async () => {
    await page.getByRole('link', { name: 'Pipeline' }).click();
    const first = page.getByRole('progressbar', { name: 'first: tiles complete' });
    await expect.poll(() => first.getAttribute('aria-valuenow'), { timeout: STEP_MS }).toBe(String(TILES));
    // Two scheduler passes later (200 ms ticks) the paused stage still has run nothing.
    await page.waitForTimeout(1000);
    const stages = await stageCounts('e2e acquisition');
    expect(stages.first.complete).toBe(TILES);
    expect(stages.second).toMatchObject({ complete: 0, processing: 0, failed: 0 });
    expect(await executionsOf(stages.second.id)).toBe(0);
    const second = page.getByRole('progressbar', { name: 'second: tiles complete' });
    expect(await second.getAttribute('aria-valuenow')).toBe('0');
    await screenshot(page, '10-pipeline');
  });

  it('resumes the stage, which fails, and resubmits failed tiles by box selection', async () => {
    await fs.writeFile(flag, 'fail\n');
    await page.getByTestId('resume-stage-second').click();
    await page.locator('[data-stage="second"][data-processing="true"]').waitFor();
    await expect
      .poll(async () => (await stageCounts('e2e acquisition')).second.failed, { timeout: STEP_MS })
      .toBe(TILES);

    await page.getByRole('link', { name: 'Tile map' }).click();
    await page.getByLabel('Stage shown').selectOption({ label: 'second' });
    await page.getByRole('slider', { name: 'Plane' }).fill('0');
    await expect
      .poll(async () => {
        const c = await mapCounts();
        return [c.z, c.failed];
      })
      .toEqual([0, PER_PLANE]);

    // Drag a rectangle over the whole plane.
    await fs.rm(flag);
    const stack_ = page.getByTestId('tilemap');
    const box = (await stack_.boundingBox())!;
    const cell = Number(await stack_.getAttribute('data-cell-size'));
    await page.mouse.move(box.x + cell / 2, box.y + cell / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
    await page.mouse.move(box.x + box.width - cell / 2, box.y + box.height - cell / 2, { steps: 4 });
    await page.mouse.up();
    expect(await stack_.getAttribute('data-selected')).toBe(String(PER_PLANE));
    const resubmit = page.getByTestId('resubmit-failed-selection');
    expect(await resubmit.textContent()).toBe(`Resubmit failed (${PER_PLANE})`);
    await screenshot(page, '11-tile-map-selection');
    await resubmit.click();
    await expect.poll(async () => (await mapCounts()).complete, { timeout: STEP_MS }).toBe(PER_PLANE);
    // Only the selected plane was resubmitted.
    const stages = await stageCounts('e2e acquisition');
    expect(stages.second).toMatchObject({ complete: PER_PLANE, failed: TILES - PER_PLANE });
  });

  it("shows a failed tile's history and log, then resubmits the remaining failed tiles", async () => {
    await page.getByRole('link', { name: 'Pipeline' }).click();
    await page.locator('[data-stage="second"] a.node-title').click();
    await page.getByRole('heading', { name: 'second' }).waitFor();
    await page.getByRole('button', { name: /Failed/ }).click();
    const rows = page.locator('[data-testid="stage-tiles"] tbody tr[data-status="failed"]');
    await expect.poll(() => rows.count()).toBe(TILES - PER_PLANE);
    await rows.first().locator('button.link').click();
    const history = page.getByTestId('tile-history');
    await history.locator('tr[data-execution-status="failed"]').waitFor();
    await history.getByRole('tab', { name: 'stderr' }).click();
    await expect.poll(() => history.getByLabel('stderr log').textContent()).toContain('failing on purpose');
    await screenshot(page, '12-stage-detail');

    await page.getByTestId('resubmit-failed').click();
    await expect
      .poll(async () => (await stageCounts('e2e acquisition')).second.complete, { timeout: STEP_MS })
      .toBe(TILES);
    await expect
      .poll(() => page.getByRole('progressbar', { name: 'Tiles complete' }).getAttribute('aria-valuenow'))
      .toBe(String(TILES));
  });

  it("changes a worker's capacity", async () => {
    await go('/workers');
    const row = page.locator(`tr[data-worker="${WORKER}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-local-capacity')).toBe('2');
    await row.locator('input[name="localCapacity"]').fill('3');
    await row.getByRole('button', { name: 'Set' }).click();
    await page.locator(`tr[data-worker="${WORKER}"][data-local-capacity="3"]`).waitFor();
    const r = await stack.graphql<{ workers: Array<{ name: string; localCapacity: number }> }>(
      '{ workers { name localCapacity } }',
    );
    expect(r.data?.workers.find((w) => w.name === WORKER)?.localCapacity).toBe(3);
    // The API refuses a negative capacity; its message shows next to the input.
    await row.locator('input[name="localCapacity"]').fill('-1');
    await row.getByRole('button', { name: 'Set' }).click();
    expect(await row.locator('.field-error[data-field="localCapacity"]').textContent()).toMatch(/must be 0 or more/);
    await screenshot(page, '13-workers');
    expect(worker).toBeTruthy();
  });

  it('shows the charts, the project list and the dashboard, then signs out', async () => {
    await go(`/projects/${projectId}/charts`);
    await page.getByTestId('charts').waitFor();
    await page.getByRole('img', { name: 'Throughput' }).waitFor();
    await screenshot(page, '14-charts');
    await go('/projects');
    await page.locator('tr[data-project="e2e acquisition"]').waitFor();
    await screenshot(page, '15-projects');
    await go('/');
    await page.locator('[data-testid="active-projects"] tr[data-project="e2e acquisition"]').waitFor();
    await screenshot(page, '16-dashboard');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate('localStorage.getItem("tileflow.token")')).toBeNull();
    expect(errors.filter((e) => !/Failed to load resource|WebSocket/.test(e))).toEqual([]);
  });
});
