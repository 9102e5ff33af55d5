/**
 * Jest's own order (test/helpers/sequencer.js is jest.config.js's testSequencer) with one change:
 * a file jest has no timing for in its cache takes its time from test/durations.json.
 *
 * Jest runs the longest files first from the durations it cached on the last run, so its three
 * workers finish together. A clean clone (`.ci/run`, a new machine) has no cache, and jest then
 * orders by file size, which put long moto-backed files last: a clean-clone run took ~15 s longer
 * than a warm one, with workers idle at the end. test/durations.json holds the files' durations
 * from one run on our 2-core machines; only the order matters, so it need not be exact.
 *
 * `npm run test:long` (jest.long.config.js) uses it too. Refresh it after adding or reshaping slow
 * files (each results file is merged into what is there):
 *   npx jest --json --outputFile=/tmp/drbot-jest.json; node test/helpers/sequencer.js /tmp/drbot-jest.json
 */
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const ROOT = join(__dirname, '../..');
const DURATIONS = join(ROOT, 'test/durations.json');

/** Milliseconds per file, keyed by the path from the repository root with '/' separators. */
function committedDurations() {
  try {
    return JSON.parse(readFileSync(DURATIONS, 'utf8'));
  } catch {
    return {};
  }
}

const key = (path) => relative(ROOT, path).split('\\').join('/');

class DurationSequencer extends Sequencer {
  constructor(...args) {
    super(...args);
    this.committed = committedDurations();
  }

  time(test) {
    return super.time(test) ?? this.committed[key(test.path)];
  }
}

module.exports = DurationSequencer;

if (require.main === module) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node test/helpers/sequencer.js JEST_JSON_RESULTS...');
    process.exit(2);
  }
  // Merged into what is there: `npm test` and `npm run test:long` are refreshed one at a time.
  const durations = committedDurations();
  for (const file of files) {
    const results = JSON.parse(readFileSync(file, 'utf8'));
    for (const r of results.testResults) durations[key(r.name)] = Math.round((r.endTime - r.startTime) / 100) * 100;
  }
  const kept = Object.entries(durations).filter(([path]) => existsSync(join(ROOT, path)));
  writeFileSync(DURATIONS, `${JSON.stringify(Object.fromEntries(kept.sort(([a], [b]) => a.localeCompare(b))), null, 2)}\n`);
  console.log(`test/durations.json: ${kept.length} files`);
}
