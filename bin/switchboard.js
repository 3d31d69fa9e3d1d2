#!/usr/bin/env node
// The `switchboard` command. npx and npm scripts put the project's own Node.js 24 first on the PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `switchboard needs Node.js 24 (this is ${process.version}). Run it as \`npx switchboard\` from the project directory.`,
  );
  process.exit(1);
}
await import('../src/cli/main.ts');
