/**
 * Reading a large document never holds up the server: while a server process previews and then imports
 * a ~5 MB YAML document, GET /healthz, asked over real HTTP every few milliseconds, answers each time in
 * under 100 ms. (Parsed on the event loop, the same document stalls it for seconds.) The server runs as
 * its own process, so what is measured is its event loop, not this test's.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startServer, type ServerProcess } from '../helpers/process.ts';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';

const WORDS = 'the order ships from the nearest warehouse once payment clears and stock is held'.split(' ');

/** An OpenAPI 3.0 YAML document of about `bytes`: many operations, each with a large body schema. */
function largeDocument(serverUrl: string, bytes: number): string {
  const lines = [
    'openapi: 3.0.3',
    'info: {title: Large, version: "1"}',
    `servers: [{url: "${serverUrl}"}]`,
    'paths:',
  ];
  const schemas = ['components:', '  schemas:'];
  let size = 0;
  const add = (to: string[], ...more: string[]) => {
    to.push(...more);
    for (const line of more) size += line.length + 1;
  };
  for (let i = 0; size < bytes; i++) {
    add(
      lines,
      `  /things${i}/{id}:`,
      '    get:',
      `      operationId: get_thing_${i}`,
      `      summary: Get thing ${i}`,
      '      parameters:',
      '        - {name: id, in: path, required: true, schema: {type: string}}',
      '        - {name: fields, in: query, style: form, explode: false, schema: {type: array, items: {type: string}}}',
      '    post:',
      `      operationId: update_thing_${i}`,
      '      requestBody:',
      '        content:',
      `          application/json: {schema: {$ref: "#/components/schemas/Thing${i}"}}`,
    );
    add(schemas, `    Thing${i}:`, '      type: object', '      properties:');
    for (let p = 0; p < 30; p++) {
      const description = Array.from({ length: 50 }, (_, w) => WORDS[(i + p + w) % WORDS.length]).join(' ');
      add(schemas, `        field_${p}:`, '          type: string', `          description: ${description}`);
    }
  }
  return `${lines.join('\n')}\n${schemas.join('\n')}\n`;
}

describe('OpenAPI import of a large YAML document', () => {
  let db: TestDatabase;
  let server: ServerProcess;
  let upstream: Upstream;
  let document: Buffer;
  const adminKey = `e2e-admin-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    upstream = await startUpstream();
    document = Buffer.from(largeDocument(`${upstream.url}/echo`, 4_900_000));
    upstream.setHandler((req, res) => {
      if (req.url !== '/large.yaml') return false;
      res.writeHead(200, { 'content-type': 'application/yaml' });
      res.end(document);
      return true;
    });
    db = await createTestDatabase('sqlite');
    server = await startServer(
      { ...db.env, SWITCHBOARD_ADMIN_KEY: adminKey, SWITCHBOARD_ALLOW_PRIVATE_NETWORKS: '127.0.0.2' },
      db.dataDir,
    );
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await db?.drop();
    await upstream?.close();
  });

  /** Runs `work` while asking /healthz over HTTP every 10 ms; answers each latency in ms. */
  async function healthzDuring(work: () => Promise<void>): Promise<number[]> {
    const healthz = async () => {
      const response = await fetch(`${server.url}/healthz`);
      expect(await response.json()).toEqual({ status: 'ok' });
    };
    // one request first, so neither side's first connection is counted
    await healthz();
    const latencies: number[] = [];
    let done = false;
    const polling = (async () => {
      while (!done) {
        const started = performance.now();
        await healthz();
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      await work();
    } finally {
      done = true;
      await polling;
    }
    return latencies;
  }

  /** The answer is read as text and parsed after the polling, so this process's work is not counted. */
  const importing = async (body: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/v1/imports/openapi`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };

  it('answers /healthz in under 100 ms throughout a preview and an import', async () => {
    expect(document.length).toBeGreaterThan(4_800_000);
    expect(document.length).toBeLessThan(5 * 1024 * 1024);
    const url = `${upstream.url}/large.yaml`;
    const select = Array.from({ length: 20 }, (_, i) => [`get_thing_${i}`, `update_thing_${i}`]).flat();
    let preview = { status: 0, text: '' };
    let imported = { status: 0, text: '' };
    const latencies = await healthzDuring(async () => {
      preview = await importing({ url });
      imported = await importing({ url, select });
    });
    expect(preview.status).toBe(200);
    expect(JSON.parse(preview.text).operations.length).toBeGreaterThan(500);
    expect(imported.status).toBe(201);
    expect(JSON.parse(imported.text).created).toHaveLength(40);
    expect(Math.max(...latencies)).toBeLessThan(100);
    // the work took long enough to be polled many times
    expect(latencies.length).toBeGreaterThan(20);
  }, 180_000);
});
