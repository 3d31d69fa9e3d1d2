import { sql } from 'kysely';
import type { MigrationFactory } from './types.ts';

/**
 * Workflow blocks are stored in the workflow model's own shape (core/workflows/model.ts), no longer in
 * the shape the API sends and answers (`$kind`, `inputs.condition.operatorName`, `branches`, snake_case
 * step policy), which the HTTP layer now decodes and encodes. Every stored version is rewritten once.
 * The conversion is written out here as it stood when this migration was released, so that a later
 * change to the codec never changes what it does; blocks already in the model's shape are left alone.
 */
const BATCH = 500;

export const workflowModel: MigrationFactory = () => ({
  async up(db) {
    let after = '';
    for (;;) {
      const { rows } = await sql<{ id: string; blocks: string }>`
        select id, blocks from workflow_versions where id > ${after} order by id limit ${BATCH}`.execute(db);
      for (const row of rows) {
        const blocks: unknown = JSON.parse(row.blocks);
        const upgraded = Array.isArray(blocks) ? blocks.map(upgradeBlock) : blocks;
        const text = JSON.stringify(upgraded);
        if (text !== JSON.stringify(blocks))
          await sql`update workflow_versions set blocks = ${text} where id = ${row.id}`.execute(db);
      }
      const last = rows.at(-1);
      if (!last || rows.length < BATCH) return;
      after = last.id;
    }
  },
});

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** The fields of `value` other than `taken`, if any. */
function rest(value: Json, taken: readonly string[]): Json | undefined {
  const left = Object.entries(value).filter(([key]) => !taken.includes(key));
  return left.length > 0 ? Object.fromEntries(left) : undefined;
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value.map(upgradeBlock) : []);

function upgradeBlock(block: unknown): unknown {
  if (!isObject(block) || !('$kind' in block)) return block;
  const named = typeof block.name === 'string';
  const base: Json = { id: block.id, ...(named ? { name: block.name } : {}) };
  if (block.$kind === 'Action') {
    const step: Json = { kind: 'step', ...base, type: block.type, input: block.input };
    if (block.timeout_seconds !== undefined) step.timeoutSeconds = block.timeout_seconds;
    if (isObject(block.retry))
      step.retry = {
        maxAttempts: block.retry.max_attempts,
        ...(block.retry.backoff_seconds === undefined ? {} : { backoffSeconds: block.retry.backoff_seconds }),
      };
    if (block.on_error !== undefined) step.onError = list(block.on_error);
    const taken = ['$kind', 'id', 'type', 'name', 'input', 'timeout_seconds', 'retry', 'on_error'];
    const extra = rest(block, named ? taken : taken.filter((field) => field !== 'name'));
    return extra ? { ...step, extra } : step;
  }
  const inputs = isObject(block.inputs) ? block.inputs : {};
  const condition = isObject(inputs.condition) ? inputs.condition : {};
  const branches = isObject(block.branches) ? block.branches : {};
  const ifElse: Json = {
    kind: 'if-else',
    ...base,
    condition: {
      operator: condition.operatorName,
      left: condition.left,
      ...('right' in condition ? { right: condition.right } : {}),
    },
    then: list(branches.then),
    else: list(branches.else),
  };
  const taken = ['$kind', 'type', 'id', 'name', 'inputs', 'branches'];
  const extra: Json = rest(block, named ? taken : taken.filter((field) => field !== 'name')) ?? {};
  const inputsExtra: Json = rest(inputs, ['condition']) ?? {};
  const conditionExtra = rest(condition, ['operatorName', 'left', 'right']);
  if (conditionExtra) inputsExtra.condition = conditionExtra;
  if (Object.keys(inputsExtra).length > 0) extra.inputs = inputsExtra;
  return Object.keys(extra).length > 0 ? { ...ifElse, extra } : ifElse;
}
