/**
 * Lints the document GET /openapi.json serves with Redocly CLI (its recommended ruleset, redocly.yaml)
 * and Spectral (spectral:oas, .spectral.yaml): `npm run lint:openapi`, part of `npm run check`. The app
 * is built in-process on a throwaway SQLite store; any error from either linter fails the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { createContainer, httpDeps } from '../src/container.ts';
import { createLogger } from '../src/infrastructure.ts';
import { buildHttpApp } from '../src/http/app.ts';

const ROOT = resolve(import.meta.dirname, '..');

async function servedDocument(dataDir: string): Promise<string> {
  const config = loadConfig({
    env: { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_LOG_LEVEL: 'silent', SWITCHBOARD_WORK_QUEUE: 'false' },
    envFile: false,
  });
  const container = await createContainer(config, { logger: createLogger(config) });
  try {
    const app = await buildHttpApp(httpDeps(container));
    try {
      const response = await app.inject({ method: 'GET', url: '/openapi.json' });
      if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
      return response.body;
    } finally {
      await app.close();
    }
  } finally {
    await container.close();
  }
}

/** Runs a linter's CLI on the project's Node.js; true when it exits 0. */
function lint(name: string, bin: string, args: string[]): boolean {
  process.stdout.write(`\n${name}\n`);
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', '.bin', bin), ...args], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  return result.status === 0;
}

const workDir = mkdtempSync(join(tmpdir(), 'switchboard-openapi-'));
try {
  const file = join(workDir, 'openapi.json');
  // pretty-printed, so the linters' line numbers point somewhere readable
  writeFileSync(file, JSON.stringify(JSON.parse(await servedDocument(join(workDir, 'data'))), null, 2));
  const results = [
    lint('Redocly CLI (recommended)', 'redocly', [
      'lint',
      file,
      '--config',
      'redocly.yaml',
      '--max-problems',
      '1000',
    ]),
    lint('Spectral (spectral:oas)', 'spectral', [
      'lint',
      file,
      '--ruleset',
      '.spectral.yaml',
      '--fail-severity',
      'error',
    ]),
  ];
  if (results.includes(false)) process.exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
