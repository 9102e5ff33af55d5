/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The long proofs (scale, whole flows through npm start, fault and crash suites) are
  // `npm run test:long` (jest.long.config.js); .ci/run runs both.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/long/'],
  // Two workers, one per core of our machines, each with its own moto (test/global/setup.ts):
  // the files share no state across workers, and moto's Python is half of the suite's CPU.
  maxWorkers: 2,
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
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
