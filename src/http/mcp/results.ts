/**
 * An execution as an MCP `tools/call` result. A failed execution is a tool result with `isError`, not a
 * JSON-RPC error, so the model reads the message and can correct itself (MCP spec, "Error Handling").
 * Fields come in the order the SDK's result schema gives them, so a result written directly reads the
 * same as one the SDK wrote.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isPlainObject } from '../../core/actions/coerce.ts';
import type { ExecutionRecord, ExecutionStatus } from '../../core/executions.ts';

/** `_meta` keys on every result: the record at GET /v1/executions/{id}, and how it ended. */
export const META_EXECUTION_ID = 'switchboard/execution_id';
export const META_STATUS = 'switchboard/status';
export const META_ERROR_CATEGORY = 'switchboard/error_category';

/** What the model is told for an execution that neither succeeded nor failed (yet). */
const PENDING_TEXT: Record<Exclude<ExecutionStatus, 'succeeded' | 'failed'>, string> = {
  queued: 'Accepted: the action will run after the conversation ends.',
  running: 'The action is running.',
  awaiting_confirmation: "The action waits for the user's confirmation before it runs.",
  declined: 'The user declined the action; it did not run.',
  expired: 'The confirmation window passed; the action did not run.',
  cancelled: 'The action was stopped before it finished.',
};

export function toolResult(record: ExecutionRecord): CallToolResult {
  const meta = { [META_EXECUTION_ID]: record.id, [META_STATUS]: record.status };
  if (record.error !== null || record.status === 'failed') {
    return toolError(record.error?.message ?? 'The action failed.', {
      ...meta,
      ...(record.error ? { [META_ERROR_CATEGORY]: record.error.category } : {}),
    });
  }
  if (record.status === 'awaiting_confirmation') {
    const text =
      `Not run yet: this action needs the user's confirmation. Tell the user what it will do and ask them to confirm; ` +
      `it runs once confirmed (POST /v1/executions/${record.id}/confirm; /decline drops it)` +
      (record.expiresAt ? `, until ${record.expiresAt}.` : '.') +
      ` Execution id: ${record.id}.`;
    return {
      _meta: meta,
      content: [{ type: 'text', text }],
      structuredContent: {
        status: record.status,
        execution_id: record.id,
        ...(record.expiresAt ? { expires_at: record.expiresAt } : {}),
        request: record.request,
      },
    };
  }
  if (record.status !== 'succeeded') {
    return { _meta: meta, content: [{ type: 'text', text: PENDING_TEXT[record.status] }] };
  }
  const { output } = record;
  return {
    _meta: meta,
    // a text body stays text; anything else is the JSON the REST API answers
    content: [{ type: 'text', text: typeof output === 'string' ? output : JSON.stringify(output ?? null) }],
    ...(isPlainObject(output) ? { structuredContent: output } : {}),
  };
}

export function toolError(message: string, meta: Record<string, unknown> = {}): CallToolResult {
  return { _meta: meta, content: [{ type: 'text', text: message }], isError: true };
}
