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
  testTimeout: 60000,
};
