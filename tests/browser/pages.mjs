// Usage: node pages.mjs ARTIFACT_DIR PAGE...
// Loads every page; per page reports its problems and, for its first translated
// right-to-left source cell, the computed direction and where the first and the last
// word of its first line are drawn. On the first page: hovers a source sentence and
// reports what lit up, saves screenshots (full page, the highlight, as printed) and
// says whether print hides the reviewer's controls.
import { join } from 'node:path';
import { launch } from './lib.mjs';

const [artifacts, ...files] = process.argv.slice(2);
const { visit, close } = await launch();
const pages = [];
try {
  for (const [n, file] of files.entries()) {
    const { page, problems } = await visit(file);
    const rtl = await page.evaluate(() => {
      // The words of a cell's first line, in reading (DOM) order, with their boxes.
      const firstLine = (td) => {
        const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
        const words = [];
        while (walker.nextNode()) {
          const node = walker.currentNode;
          for (const m of node.data.matchAll(/\S+/g)) {
            const r = document.createRange();
            r.setStart(node, m.index);
            r.setEnd(node, m.index + m[0].length);
            const q = r.getBoundingClientRect();
            words.push({ text: m[0], left: q.left, right: q.right, top: q.top });
          }
        }
        return words.filter((w) => words.length && Math.abs(w.top - words[0].top) < 4);
      };
      for (const td of document.querySelectorAll('tbody tr.translated td.src[dir="rtl"]')) {
        const line = firstLine(td);
        if (line.length >= 2) {
          return { direction: getComputedStyle(td).direction, lang: td.lang, words: line.length,
            first: line[0], last: line[line.length - 1] };
        }
      }
      return null;
    });
    const info = await page.evaluate(() => ({
      title: document.title,
      rows: document.querySelectorAll('tbody tr').length,
      scripts: document.scripts.length,
      // Built by our shared script: present and shown only when it ran.
      controlsShown: !!document.getElementById('controls') && !document.getElementById('controls').hidden,
    }));
    if (n === 0) {
      await page.screenshot({ path: join(artifacts, 'seed-page-full.png'), fullPage: true });
      // Hover the first sentence (or paragraph) of the second translated row.
      const span = page.locator('tbody tr.translated').nth(1).locator('td.src .s').first();
      info.hovered = await span.getAttribute('data-s');
      await span.hover();
      info.highlighted = await page.$$eval('.s.hl', (els) => els.map((e) => `${e.closest('td').className}:${e.dataset.s}`));
      await page.screenshot({ path: join(artifacts, 'seed-page-highlight.png') });
      await page.mouse.move(5, 890);
      await page.emulateMedia({ media: 'print' });
      info.printHidesControls = await page.$eval('#controls', (c) => getComputedStyle(c).display === 'none');
      await page.screenshot({ path: join(artifacts, 'seed-page-print.png'), fullPage: true });
      await page.emulateMedia({ media: 'screen' });
    }
    pages.push({ file, rtl, ...info, problems });
    await page.close();
  }
} finally {
  await close();
}
process.stdout.write(JSON.stringify({ pages }) + '\n');
