// Lint rules that keep the architecture honest (see STYLE.md and src/README.md):
// which layer may import which, the one guarded egress path, and config as the only reader of the env.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NETWORK_MODULES = [
  'undici',
  'http',
  'https',
  'http2',
  'net',
  'tls',
  'dgram',
  'node:http',
  'node:https',
  'node:http2',
  'node:net',
  'node:tls',
  'node:dgram',
];
const EGRESS_MESSAGE =
  'Outbound connections go through the guarded egress client (src/adapters/http-client). See SECURITY.md G-01.';

// Pure helpers open no connection (address checks, the table of reason phrases); everything else in
// these modules can.
const PURE_HELPERS = {
  net: ['isIP', 'isIPv4', 'isIPv6', 'BlockList', 'SocketAddress'],
  http: ['STATUS_CODES'],
};
const egressImports = NETWORK_MODULES.map((name) => {
  const pure = PURE_HELPERS[name.replace('node:', '')];
  return pure ? { name, allowImportNames: pure, message: EGRESS_MESSAGE } : { name, message: EGRESS_MESSAGE };
});
const egressGlobals = ['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource'].map((name) => ({
  name,
  message: EGRESS_MESSAGE,
}));

/** no-restricted-imports for a layer: the egress modules plus the layer's own forbidden patterns. */
function layer(patterns, extraPaths = []) {
  return {
    'no-restricted-imports': ['error', { paths: [...egressImports, ...extraPaths], patterns }],
  };
}

const noAdapters = {
  group: ['**/adapters/**'],
  message: 'Only container.ts, server.ts and worker.ts wire adapters.',
};
const noHttp = { group: ['**/http/**'], message: 'Only the HTTP layer imports the HTTP layer.' };
const noApp = { group: ['**/app/**'], message: 'The core does not depend on use cases.' };
const noDrivers = {
  group: ['kysely', 'kysely/*', 'pg', 'fastify', '@fastify/*', 'pg-boss'],
  message: 'Drivers and frameworks stay in adapters and the HTTP layer.',
};
const noNodeBuiltins = { group: ['node:*'], message: 'The core is pure: no I/O and no node:* modules.' };

/**
 * The kinds import only the core and each other: what they need from the rest of the server (secret
 * access, starting a workflow run) is a port or lives with them. A relative import that leaves
 * src/app/kinds is allowed only into src/core; one block per folder depth, since the path is relative.
 */
const KIND_FOLDERS = ['src/app/kinds/*.ts', 'src/app/kinds/*/*.ts', 'src/app/kinds/*/*/*.ts'];
const kindsOnly = (depth) => ({
  regex: `^(\\.\\./){${depth + 1}}(?!\\.\\./core/)`,
  message: 'A kind imports only src/core and src/app/kinds; what else it needs comes through a port.',
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/require-await': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['eslint.config.js', 'bin/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-console': 'error',
      'no-restricted-globals': ['error', ...egressGlobals],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'Read configuration through src/config.ts.' },
      ],
      ...layer([]),
    },
  },
  { files: ['src/config.ts'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['src/core/**/*.ts'], rules: layer([noAdapters, noHttp, noApp, noDrivers, noNodeBuiltins]) },
  { files: ['src/app/**/*.ts'], rules: layer([noAdapters, noHttp, noDrivers]) },
  ...KIND_FOLDERS.map((files, depth) => ({
    files: [files],
    rules: layer([noAdapters, noHttp, noDrivers, kindsOnly(depth)]),
  })),
  {
    files: ['src/http/**/*.ts'],
    rules: layer([noAdapters, { group: ['kysely', 'pg', 'pg-boss'], message: noDrivers.message }]),
  },
  { files: ['src/adapters/**/*.ts'], rules: layer([noHttp, noApp]) },
  {
    // The one module allowed to open outbound connections.
    files: ['src/adapters/http-client/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noHttp, noApp] }] },
  },
  {
    // Entry points print to the terminal for people.
    files: ['src/server.ts', 'src/worker.ts', 'src/boot.ts', 'src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
