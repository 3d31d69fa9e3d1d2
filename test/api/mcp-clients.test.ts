/**
 * `/mcp` as real MCP clients meet it, on both stores, over a server listening on loopback: a 401 that
 * says why in `WWW-Authenticate` (so a client reports the key instead of starting OAuth), `tools/list`
 * in pages behind opaque cursors (driven with the SDK's own client), and JSON-RPC batches: capped, and
 * each `tools/call` in one counted against the key's and the organization's rate limits like a request
 * of its own.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STORE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const PAGE_SIZE = 3;
const BATCH_LIMIT = 4;
const CHALLENGE = /^Bearer realm="switchboard", error="invalid_token", error_description="([^"]+)"$/;

async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
}

/** A raw POST to /mcp: what an SDK client turns into exceptions, and batches, which it does not send. */
async function post(base: string, key: string | null, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const call = (id: number, name: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: {} },
});

/** A hold action: it runs without any upstream, so a call is cheap and always succeeds. */
async function holdAction(t: TestApp, key: string, name: string): Promise<string> {
  const response = await t.request('POST', '/v1/actions', {
    key,
    body: { name, description: `${name}: asks the caller to hold`, kind: 'hold', hold: { seconds: 5 } },
  });
  if (response.status !== 201) throw new Error(`action not created: ${response.text}`);
  return response.body.tool_name as string;
}

describe.each(STORE_KINDS)('MCP for real clients on %s', (kind) => {
  describe('authentication, pages and the batch cap', () => {
    let t: TestApp;
    let base: string;
    let key: string;
    const clients: Client[] = [];

    async function connect(apiKey: string): Promise<Client> {
      const client = new Client({ name: 'switchboard-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${apiKey}` } },
      });
      await client.connect(transport);
      clients.push(client);
      return client;
    }

    beforeAll(async () => {
      t = await startTestApp(kind, {
        SWITCHBOARD_MCP_TOOLS_PAGE_SIZE: String(PAGE_SIZE),
        SWITCHBOARD_MCP_BATCH_LIMIT: String(BATCH_LIMIT),
      });
      base = await listen(t);
      // a tenant of its own, so the tool list is exactly the tools made here
      key = (await t.newTenant(['actions:read', 'actions:write', 'actions:execute'])).key;
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((client) => client.close()));
    });
    afterAll(async () => t.close());

    const unknownKey = `sbk_${randomBytes(32).toString('base64url')}`;

    it.each([
      ['no Authorization header', {}, /Missing API key/],
      ['an unknown key', { authorization: `Bearer ${unknownKey}` }, /API key is not valid/],
      ['a malformed header', { authorization: `Token ${unknownKey}` }, /must be 'Bearer <API key>'/],
    ])('answers %s with 401 and a Bearer challenge that says why', async (_case, headers, reason) => {
      const initialize = {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      };
      const response = await post(base, null, initialize, headers);
      expect(response.status).toBe(401);
      const challenge = response.headers.get('www-authenticate') ?? '';
      expect(challenge).toMatch(CHALLENGE);
      expect(CHALLENGE.exec(challenge)?.[1]).toMatch(reason);
      // the description never echoes what was sent
      expect(challenge).not.toContain(unknownKey);
      expect(response.body.error.code).toBe('UNAUTHENTICATED');
    });

    it.each([
      ['GET', '/v1/me'],
      ['GET', '/actions'],
      ['GET', '/api/v1/agents/0190a1b2-0000-7000-8000-000000000000'],
      ['PUT', '/integrations/v1/x/actions/y'],
    ])(
      'sends the same challenge on %s %s, whatever error shape the route answers in',
      async (method, url) => {
        const response = await t.request(method, url, {
          key: unknownKey,
          body: method === 'PUT' ? {} : undefined,
        });
        expect(response.status).toBe(401);
        expect(response.headers['www-authenticate']).toMatch(CHALLENGE);
      },
    );

    it("tells the SDK client's user that the key was refused", async () => {
      await expect(connect(unknownKey)).rejects.toMatchObject({
        code: 401,
        message: expect.stringContaining('The API key is not valid'),
      });
    });

    it('lists tools in pages of the configured size, each name once, in name order', async () => {
      const names = ['delta', 'alpha', 'golf', 'charlie', 'echo', 'bravo', 'foxtrot'];
      const tools = await Promise.all(names.map((name) => holdAction(t, key, `Hold ${name}`)));
      const client = await connect(key);
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor === undefined ? {} : { cursor });
        pages.push(page.tools.map((tool) => tool.name));
        cursor = page.nextCursor;
      } while (cursor !== undefined && pages.length < 10);
      expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
      expect(pages.flat()).toEqual([...tools].sort());
      // the REST list is the whole list, in the same order
      const rest = await t.request('GET', '/v1/tools?format=mcp', { key });
      expect(rest.body.tools.map((tool: { name: string }) => tool.name)).toEqual(pages.flat());
    });

    it('keeps a cursor stable across calls and connections, and past tools added before it', async () => {
      const client = await connect(key);
      const first = await client.listTools();
      const cursor = first.nextCursor!;
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      const second = await client.listTools({ cursor });
      const again = await (await connect(key)).listTools({ cursor });
      expect(again).toEqual(second);
      // a tool whose name sorts before the cursor joins the first page, not the next ones
      await holdAction(t, key, 'Hold aardvark');
      const after = await client.listTools({ cursor });
      expect(after.tools.map((tool) => tool.name)).toEqual(second.tools.map((tool) => tool.name));
      expect((await client.listTools()).tools[0]?.name).toBe('hold_aardvark');
    });

    it.each([
      ['not base64url', 'not a cursor!'],
      ['a name that is no tool name', Buffer.from('after:../etc').toString('base64url')],
      ['without our prefix', Buffer.from('hold_alpha').toString('base64url')],
      ['empty', ''],
      ['padded base64', `${Buffer.from('after:hold_alpha').toString('base64')}=`],
    ])('refuses a cursor that is %s as invalid params', async (_case, cursor) => {
      const client = await connect(key);
      await expect(client.listTools({ cursor })).rejects.toMatchObject({
        code: -32602,
        message: expect.stringContaining('cursor is not a nextCursor this server returned'),
      });
    });

    it('answers a batch up to the cap, and refuses a longer one with a JSON-RPC error that says so', async () => {
      const list = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list', params: {} });
      const within = await post(
        base,
        key,
        Array.from({ length: BATCH_LIMIT }, (_, i) => list(i + 1)),
      );
      expect(within.status).toBe(200);
      expect(within.body).toHaveLength(BATCH_LIMIT);
      expect(
        within.body.every((reply: { result?: { tools: unknown[] } }) => reply.result?.tools.length),
      ).toBe(true);

      const over = await post(
        base,
        key,
        Array.from({ length: BATCH_LIMIT + 1 }, (_, i) => list(i + 1)),
      );
      expect(over.status).toBe(400);
      expect(over.body).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: expect.stringMatching(/at most 4 messages and this one holds 5/) },
      });
    });
  });

  describe('rate limits in batches', () => {
    const PER_KEY = 6;
    const PER_ORG = 16;
    let t: TestApp;
    let base: string;
    let tool: string;
    /** Keys of one tenant: the first made the action; each test spends its own. */
    let keys: string[];

    const outcomes = (replies: { result?: { isError?: boolean }; error?: any }[]) => ({
      ran: replies.filter((reply) => reply.result && !reply.result.isError).length,
      refused: replies.filter((reply) => reply.error).map((reply) => reply.error),
    });

    beforeAll(async () => {
      t = await startTestApp(kind, {
        SWITCHBOARD_RATE_LIMIT_PER_KEY: String(PER_KEY),
        SWITCHBOARD_RATE_LIMIT_PER_ORG: String(PER_ORG),
      });
      base = await listen(t);
      // five of the admin key's six requests; none of the tenant's
      const { id } = (await t.request('POST', '/v1/organizations', { body: { name: 'limited' } })).body;
      keys = [];
      for (let i = 0; i < 4; i++) {
        const created = await t.request('POST', `/v1/organizations/${id}/keys`, {
          body: { name: `mcp ${i}`, scopes: ['actions:read', 'actions:write', 'actions:execute'] },
        });
        keys.push(created.body.key as string);
      }
      // the tenant's request 1
      tool = await holdAction(t, keys[0]!, 'Hold on');
    });
    afterAll(async () => t.close());

    it('counts each tools/call in a batch against the key, refusing only the calls past the limit', async () => {
      const key = keys[1]!;
      const batch = await post(
        base,
        key,
        Array.from({ length: 8 }, (_, i) => call(i + 1, tool)),
      );
      expect(batch.status).toBe(200);
      const { ran, refused } = outcomes(batch.body);
      // the request counts once and pays for the first call; calls 2 to 6 take the rest of the key's six
      expect(ran).toBe(PER_KEY);
      expect(refused).toHaveLength(2);
      for (const error of refused) {
        expect(error).toMatchObject({
          code: -32600,
          message: expect.stringContaining(`Rate limit of ${PER_KEY} requests per minute for this API key`),
          data: { code: 'RATE_LIMITED', retry_after_seconds: expect.any(Number) },
        });
      }
      // the key is spent: its next request is refused before any JSON-RPC
      const next = await post(base, key, call(9, tool));
      expect(next.status).toBe(429);
      expect(next.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it('admits exactly as many calls sent one request each', async () => {
      const key = keys[2]!;
      const statuses: number[] = [];
      for (let id = 1; id <= 8; id++) statuses.push((await post(base, key, call(id, tool))).status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(PER_KEY);
      expect(statuses.filter((status) => status === 429)).toHaveLength(2);
    });

    it("counts batched calls against the organization's limit across its keys", async () => {
      // spent so far: 1 (the action) + 6 (the batch) + 6 (the single requests) = 13 of the tenant's 16
      const batch = await post(
        base,
        keys[3]!,
        Array.from({ length: 4 }, (_, i) => call(i + 1, tool)),
      );
      const { ran, refused } = outcomes(batch.body);
      expect(ran).toBe(PER_ORG - 13);
      expect(refused).toEqual([
        expect.objectContaining({
          message: expect.stringContaining(
            `Rate limit of ${PER_ORG} requests per minute for this organization`,
          ),
          data: expect.objectContaining({ code: 'RATE_LIMITED' }),
        }),
      ]);
      const another = await post(base, keys[0]!, call(5, tool));
      expect(another.status).toBe(429);
      expect(another.body.error.message).toMatch(/organization/);
    });
  });
});
