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
 * Refresh it after adding or reshaping slow files:
 *   npx jest --json --outputFile=/tmp/drbot-jest.json; node test/helpers/sequencer.js /tmp/drbot-jest.json
 */
const { readFileSync, writeFileSync } = require('node:fs');
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
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node test/helpers/sequencer.js JEST_JSON_RESULTS');
    process.exit(2);
  }
  const results = JSON.parse(readFileSync(file, 'utf8'));
  const durations = {};
  for (const r of results.testResults) durations[key(r.name)] = Math.round((r.endTime - r.startTime) / 100) * 100;
  const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(DURATIONS, `${JSON.stringify(sorted, null, 2)}\n`);
  console.log(`test/durations.json: ${Object.keys(sorted).length} files`);
}
