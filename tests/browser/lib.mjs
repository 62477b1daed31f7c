// Shared by the browser checks: start Debian's chromium headless through
// playwright-core, open local pages, and record everything that went wrong on them.
// Each check prints one JSON object on stdout; tests/it/browser.rs asserts on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

// The machine's network is closed: without these flags Chromium keeps trying to
// reach Google's services and logs the refused connections.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/// Start chromium with a fresh profile; `visit(file)` opens a page and collects its
/// console errors and warnings, uncaught errors, failed requests and dialogs.
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'tarjama-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.TARJAMA_CHROMIUM || '/usr/bin/chromium',
    args: ARGS,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  const visit = async (file) => {
    const page = await context.newPage();
    const problems = { console: [], pageErrors: [], failedRequests: [], dialogs: [] };
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.console.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.pageErrors.push(String(e)));
    page.on('requestfailed', (r) => problems.failedRequests.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('dialog', async (d) => {
      problems.dialogs.push(`${d.type()}: ${d.message()}`);
      await d.dismiss();
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    return { page, problems };
  };
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { visit, close };
}

/// Open `file`, run `body(page)`, print `{...result, problems}` as one JSON line.
export async function check(file, body) {
  const { visit, close } = await launch();
  try {
    const { page, problems } = await visit(file);
    const result = await body(page);
    await page.waitForTimeout(100);
    process.stdout.write(JSON.stringify({ ...result, problems }) + '\n');
  } finally {
    await close();
  }
}

/// Classes of the elements matching `selector`, as arrays.
export async function classes(page, selector) {
  return page.$$eval(selector, (els) => els.map((e) => [...e.classList]));
}
