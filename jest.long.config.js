/**
 * `npm run test:long`: the long-running proofs (scale, whole-product flows through `npm start`,
 * fault and crash suites), kept out of the quick `npm test` and run by `.ci/run` after it.
 * Same transforms, setup and secrets scan as jest.config.js; only the files under test/long/.
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/test/long/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 180000,
  // Two: these files start whole `npm start` processes and 5,000-object runs; measured at 353 s.
  maxWorkers: 2,
};
