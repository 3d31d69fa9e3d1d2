/**
 * An upstream that applies one effect per Idempotency-Key and answers a replay with the stored receipt,
 * on `POST /ledger/<step>`: what a well-behaved payment or CRM API does, and what the durability tests
 * count effects against.
 */
import { randomBytes } from 'node:crypto';
import { startUpstream, type Upstream } from './upstream.ts';

export interface Receipt {
  receipt: string;
  step: string;
  after: unknown;
}

export interface LedgerOptions {
  /** The first request of this step is held until the test calls its entry in `held`. */
  holdFirstOf?: string | undefined;
  /** The nth request of this step (1 is the first) is held, as holdFirstOf does. */
  holdNth?: { step: string; nth: number } | undefined;
  /** Every answer waits this long (a slow upstream, so that steps are in flight). */
  delayMs?: number | undefined;
}

export interface Ledger {
  upstream: Upstream;
  receipts: Map<string, Receipt>;
  /** Effects applied per Idempotency-Key: 1 each, however often a key is delivered. */
  effects: Map<string, number>;
  deliveries: { step: string; key: string; body: Record<string, unknown> }[];
  held: (() => void)[];
}

export async function startLedger(options: LedgerOptions = {}): Promise<Ledger> {
  const upstream = await startUpstream();
  const ledger: Ledger = { upstream, receipts: new Map(), effects: new Map(), deliveries: [], held: [] };
  upstream.setHandler((req, res) => {
    const step = /^\/ledger\/([a-z]+)$/.exec(req.url ?? '')?.[1];
    if (!step) return false;
    const key = String(req.headers['idempotency-key'] ?? '');
    const body = JSON.parse(req.body.toString() || '{}') as Record<string, unknown>;
    ledger.deliveries.push({ step, key, body });
    let receipt = ledger.receipts.get(key);
    if (!receipt) {
      receipt = { receipt: `rcpt-${randomBytes(6).toString('hex')}`, step, after: body.after ?? null };
      ledger.receipts.set(key, receipt);
      ledger.effects.set(key, (ledger.effects.get(key) ?? 0) + 1);
    }
    const text = JSON.stringify(receipt);
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(text);
    };
    const hold = options.holdNth ?? (options.holdFirstOf ? { step: options.holdFirstOf, nth: 1 } : undefined);
    if (step === hold?.step && ledger.deliveries.filter((d) => d.step === step).length === hold.nth)
      ledger.held.push(answer);
    else if (options.delayMs) setTimeout(answer, options.delayMs);
    else answer();
    return true;
  });
  return ledger;
}

/**
 * A manual-trigger workflow of three `http` steps posting to the ledger, each reading the one before:
 * a (`{order: trigger.order_id}`) → b (`{after: a's receipt}`) → c (`{after: b's receipt}`).
 */
export function ledgerChain(ledger: Ledger, name: string) {
  const post = (step: string, body: Record<string, unknown>) => ({
    $kind: 'Action',
    id: step,
    type: 'http',
    input: { method: 'POST', url: `${ledger.upstream.url}/ledger/${step}`, body },
  });
  return {
    name,
    trigger_type: 'manual-trigger',
    workflow_blocks: [
      post('a', { order: '{{trigger.order_id}}' }),
      post('b', { after: '{{a.output.receipt}}' }),
      post('c', { after: '{{b.output.receipt}}' }),
    ],
  };
}
