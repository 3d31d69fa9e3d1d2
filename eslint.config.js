// Lint rules that keep the architecture honest (src/README.md and each layer's README say which layer may
// import which): the layers' imports, the one guarded egress path, and config as the only reader of the env.
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
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
  'Outbound connections go through the guarded egress client (src/adapters/http-client). See docs/security.md G-01.';

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
  message: 'Only the composition root (infrastructure.ts, container.ts) and the entry points wire adapters.',
};
const noHttp = { group: ['**/http/**'], message: 'Only the HTTP layer imports the HTTP layer.' };
const noApp = { group: ['**/app/**'], message: 'The core does not depend on use cases.' };
const noDrivers = {
  group: ['kysely', 'kysely/*', 'pg', 'fastify', '@fastify/*', 'pg-boss'],
  message: 'Drivers and frameworks stay in adapters and the HTTP layer.',
};
const noNodeBuiltins = { group: ['node:*'], message: 'The core is pure: no I/O and no node:* modules.' };

const ADAPTERS_DIR = resolve(import.meta.dirname, 'src/adapters');
// Files under src/adapters that any adapter may import, each with the reason it is shared. None yet: an
// adapter that needs another's code is a sign the code belongs in core/ or in the composition root.
const SHARED_ADAPTER_FILES = new Map([]);

/** The adapter a path belongs to: its folder under src/adapters (or its file, for one at the top). */
function adapterOf(path) {
  const inside = relative(ADAPTERS_DIR, path);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
  return inside.split(sep)[0];
}

/** src/adapters/<a>/** may not import src/adapters/<b>/**: each adapter implements its port alone. */
const noSiblingAdapter = {
  meta: {
    type: 'problem',
    schema: [],
    messages: {
      sibling:
        'The {{from}} adapter imports the {{to}} adapter. An adapter implements its port on its own: share ' +
        'pure code through core/, or wire the two together in the composition root.',
    },
  },
  create(context) {
    const from = adapterOf(context.filename);
    if (from === undefined) return {};
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = resolve(dirname(context.filename), source);
      const to = adapterOf(target);
      if (to === undefined || to === from || SHARED_ADAPTER_FILES.has(relative(ADAPTERS_DIR, target))) return;
      context.report({ node: node.source, messageId: 'sibling', data: { from, to } });
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

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
    // Adapters never import each other (a rule of its own: it resolves paths, which import patterns cannot).
    files: ['src/adapters/**/*.ts'],
    plugins: { adapters: { rules: { 'no-sibling-import': noSiblingAdapter } } },
    rules: { 'adapters/no-sibling-import': 'error' },
  },
  {
    // The one module allowed to open outbound connections.
    files: ['src/adapters/http-client/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noHttp, noApp] }] },
  },
  {
    // A command runs and exits: it never starts the queue workers, sweeps or schedules of a server.
    files: ['src/cli/**/*.ts'],
    rules: layer([
      {
        group: ['**/background-work.ts'],
        message: 'Only the server and the worker start background work.',
      },
    ]),
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
