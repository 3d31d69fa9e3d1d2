/** Planning OpenAPI documents in tests: the plan, one operation of it, a skip reason, a minimal document. */
import {
  type ImportPlan,
  type PlanOptions,
  type PlannedOperation,
  planImport,
} from '../../src/core/openapi/index.ts';

export function plan(document: unknown, options: Partial<PlanOptions> = {}): ImportPlan {
  return planImport(document, { credentials: {}, toolNames: new Set(), ...options });
}

export function operation(result: ImportPlan, key: string): PlannedOperation {
  const found = result.operations.find((o) => o.key === key);
  if (!found)
    throw new Error(
      `${key} not planned: ${JSON.stringify(result.skipped.find((s) => s.key === key) ?? result.skipped)}`,
    );
  return found;
}

export const reason = (result: ImportPlan, key: string) => result.skipped.find((s) => s.key === key)?.reason;

/** A minimal 3.0 document around some paths. */
export function doc(paths: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    openapi: '3.0.3',
    info: { title: 'Test', version: '1' },
    servers: [{ url: 'https://api.example.com/v1' }],
    paths,
    ...extra,
  };
}
