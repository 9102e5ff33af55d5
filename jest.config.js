/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The long proofs (scale, whole flows through npm start, fault and crash suites) are
  // `npm run test:long` (jest.long.config.js); .ci/run runs both.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/long/'],
  // Three workers on our 2-core machines, each with its own moto (test/global/setup.ts): the files
  // share no state across workers, and a worker waits on its moto half the time, which a third
  // worker fills. Measured on an idle 2-core machine: 382 s with 2 workers, 327 s with 3, 321 s with 4.
  maxWorkers: 3,
  // Longest files first, from jest's cached timings or, on a clean clone, test/durations.json.
  testSequencer: '<rootDir>/test/helpers/sequencer.js',
  transform: {
    '^.+\\.ts$': '<rootDir>/test/helpers/esbuild-transform.js',
    '^.+\\.yaml$': '<rootDir>/test/helpers/yaml-transform.js',
  },
  // Handlers bundle drbot.config.yaml; tests use the shipped example.
  moduleNameMapper: { '^.*/drbot\\.config\\.yaml$': '<rootDir>/drbot.config.example.yaml' },
  moduleFileExtensions: ['ts', 'js', 'json', 'yaml'],
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  // The secrets scan over the whole run's Slack calls, logs and audit (test/helpers/journal.ts).
  globalSetup: '<rootDir>/test/global/setup.ts',
  globalTeardown: '<rootDir>/test/global/teardown.ts',
  testTimeout: 60000,
};
