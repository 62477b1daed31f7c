// Reads XLIFF 2.0 files with the npm `xliff` package's parser (xliff2js) and prints
// what it found as one JSON array on stdout, for tests/it/xliff.rs:
// [{ "file", "srcLang", "trgLang", "units": [{ "file", "id", "source", "target", "notes" }] }]
// A file the package cannot parse makes the script exit 1 with the file named.
import { readFileSync } from 'node:fs'
import xliff2js from 'xliff/xliff2js'

const out = []
for (const path of process.argv.slice(2)) {
  let js
  try {
    js = await xliff2js(readFileSync(path, 'utf8'))
  } catch (e) {
    console.error(`${path}: ${e.message}`)
    process.exit(1)
  }
  const units = []
  for (const [file, resources] of Object.entries(js.resources || {})) {
    for (const [id, unit] of Object.entries(resources)) {
      const notes = unit.note === undefined ? [] : [].concat(unit.note)
      units.push({ file, id, source: unit.source, target: unit.target, notes })
    }
  }
  out.push({ file: path, srcLang: js.sourceLanguage, trgLang: js.targetLanguage, units })
}
process.stdout.write(JSON.stringify(out))
