/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
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
