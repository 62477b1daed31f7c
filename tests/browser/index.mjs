// Usage: node index.mjs ARTIFACT_DIR INDEX_HTML
// Clicks column headers of index.html and reports the order of documents and aria-sort.
import { join } from 'node:path';
import { check } from './lib.mjs';

const [artifacts, file] = process.argv.slice(2);
const state = (page) => page.evaluate(() => {
  const table = document.getElementById('docs');
  const heads = [...table.tHead.rows[0].cells].map((th) => th.textContent.trim());
  const col = (name) => heads.indexOf(name);
  return {
    heads,
    ariaSort: Object.fromEntries([...table.tHead.rows[0].cells].map((th) => [th.textContent.trim(), th.getAttribute('aria-sort')])),
    rows: [...table.tBodies[0].rows].map((tr) => ({ doc: tr.cells[0].textContent.trim(), paragraphs: Number(tr.cells[col('paragraphs')].textContent) })),
  };
});
await check(file, async (page) => {
  const initial = await state(page);
  await page.click('th >> text=paragraphs');
  const ascending = await state(page);
  await page.click('th >> text=paragraphs');
  const descending = await state(page);
  await page.screenshot({ path: join(artifacts, 'index.png'), fullPage: true });
  await page.click('th >> text=Document');
  const byDoc = await state(page);
  return { initial, ascending, descending, byDoc };
});
