// Usage: node review.mjs ARTIFACT_DIR PAGE
// On a page with known sentence pairs and flags: hover and focus highlighting, the
// flagged-only filter, keyboard navigation between flagged rows, editing, the
// corrections download, and edits kept across a reload. Reports what it saw; tests/it/browser.rs judges it.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { check, classes } from './lib.mjs';

const [artifacts, file] = process.argv.slice(2);
const lit = (page) => page.$$eval('.s.hl', (els) => els.map((e) => `${e.closest('td').className}:${e.dataset.s}`));
await check(file, async (page) => {
  const out = {};
  // Hover the second source sentence of paragraph 2 (index 1).
  await page.hover('td.src .s[data-s="1.1"]');
  out.hover = await lit(page);
  out.hoverBackground = await page.$eval('td.tgt .s[data-s="1.1"]', (e) => getComputedStyle(e).backgroundColor);
  out.otherBackground = await page.$eval('td.tgt .s[data-s="1.0"]', (e) => getComputedStyle(e).backgroundColor);
  await page.screenshot({ path: join(artifacts, 'review-highlight.png') });
  await page.mouse.move(5, 890);
  out.afterLeave = await lit(page);
  // A paragraph without pairs highlights as a whole.
  await page.hover('td.tgt .s[data-s="7"]');
  out.hoverParagraph = await lit(page);
  await page.mouse.move(5, 890);
  // Keyboard focus does the same.
  await page.focus('td.tgt .s[data-s="6.1"]');
  out.focus = await lit(page);
  await page.evaluate(() => document.activeElement.blur());

  // Flagged-only filter.
  const visible = () => page.$$eval('tbody tr', (rows) => rows.filter((r) => r.getClientRects().length > 0).map((r) => r.id));
  out.visibleBefore = await visible();
  await page.check('#only-flagged');
  out.visibleFiltered = await visible();
  out.flaggedClasses = await classes(page, 'tbody tr.flagged');
  await page.uncheck('#only-flagged');
  out.visibleAfter = await visible();

  // Keyboard navigation between flagged rows.
  const focused = () => page.evaluate(() => document.activeElement.id || document.activeElement.tagName);
  out.nav = [];
  for (const key of ['n', 'n', 'j', 'n', 'k', 'p']) {
    await page.keyboard.press(key);
    out.nav.push(await focused());
  }
  out.navStatus = await page.textContent('#nav-status');

  // Edit paragraph 2 (index 1) with the keyboard, paragraph 5 (untranslated) with the mouse.
  await page.click('#p2 button.edit');
  await page.fill('#p2 textarea', 'Reuters said twelve people were killed. EDITED.');
  await page.keyboard.press('Control+Enter');
  await page.click('#p5 button.edit');
  await page.fill('#p5 textarea', 'A reviewer\'s own translation of a missing paragraph.');
  await page.click('#p5 button.save');
  // An edit cancelled with Esc changes nothing.
  await page.click('#p3 button.edit');
  await page.fill('#p3 textarea', 'thrown away');
  await page.keyboard.press('Escape');
  out.edited = await page.$$eval('tbody tr.edited', (rows) => rows.map((r) => r.id));
  out.editedText = await page.textContent('#p2 td.tgt');
  out.editedBadge = await page.$eval('#p2 .badge-edited', (b) => !b.hidden && b.getClientRects().length > 0);
  out.downloadLabel = await page.textContent('#download');
  await page.screenshot({ path: join(artifacts, 'review-edited.png') });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  out.downloadName = download.suggestedFilename();
  out.download = JSON.parse(readFileSync(await download.path(), 'utf8'));
  // Saved edits survive a reload (local storage).
  await page.reload({ waitUntil: 'load' });
  out.editedAfterReload = await page.$$eval('tbody tr.edited', (rows) => rows.map((r) => r.id));
  out.downloadLabelAfterReload = await page.textContent('#download');
  return out;
});
