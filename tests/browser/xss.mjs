// Usage: node xss.mjs PAGE
// A page made from an article containing <script> and <img onerror>: reports the
// text shown, the elements that exist and whether anything ran. Also used on a copy
// of that page with the escaping undone, to see the CSP stop what got through.
import { check } from './lib.mjs';

const [file] = process.argv.slice(2);
await check(file, async (page) => {
  await page.waitForTimeout(300);
  return page.evaluate(() => ({
    text: document.querySelector('table.aligned tbody').innerText,
    imgs: document.querySelectorAll('img').length,
    scripts: [...document.scripts].map((s) => s.type || 'classic'),
    // Our script ran (it adds this class); nothing else should have.
    ours: document.documentElement.classList.contains('js'),
    injected: window.tarjamaInjected === true,
  }));
});
