import type { JsonSchemaObject } from '../actions/input-schema.ts';
import { AppError } from '../errors.ts';
import { toGeminiParameters } from './gemini-schema.ts';
import { TOOL_NAME_PATTERN } from './names.ts';

/**
 * Actions as tool definitions in each format a model or client reads. The shapes:
 * - openai: Chat Completions `tools`: `{ type: 'function', function: { name, description, parameters } }`.
 *   `strict` is left unset (off): strict mode requires every property to be required and does not take
 *   maxLength, and our optional variables and length bounds matter more. (The Responses API takes the
 *   same fields flattened, `{ type: 'function', name, ... }`, and defaults strict to true.)
 * - anthropic: Messages API `tools`: `{ name, description, input_schema }`, input_schema a JSON Schema
 *   object with `type: 'object'`.
 * - gemini: a Tool, `{ functionDeclarations: [{ name, description, parameters }] }`, parameters in
 *   Gemini's Schema subset (see gemini-schema.ts) and left out when the tool takes no arguments.
 * - mcp: a `tools/list` result, `{ tools: [{ name, title?, description, inputSchema, annotations? }] }`;
 *   inputSchema is JSON Schema (2020-12 by default) with `type: 'object'` at the root.
 */
export type ToolFormat = 'openai' | 'anthropic' | 'gemini' | 'mcp';
export const TOOL_FORMATS: readonly ToolFormat[] = ['openai', 'anthropic', 'gemini', 'mcp'];

export interface ToolSource {
  /** A name matching TOOL_NAME_PATTERN (see toolNameFor), unique in the list. */
  name: string;
  /** The action's own text: what it does and when to use it. Never a secret. */
  description: string;
  inputSchema: JsonSchemaObject;
  /** The action runs only after the user confirms (the server enforces it; the model is told). */
  requiresConfirmation?: boolean;
  /** A display name, for MCP clients. */
  title?: string;
  /** True when the action only reads (an MCP hint; clients assume it may write when unset). */
  readOnly?: boolean;
}

export const CONFIRMATION_NOTE =
  "This action needs the user's explicit confirmation: before calling it, tell the user what it will do and call it only after they agree.";

/** The tools in `format`, sorted by name so the same actions always give the same output. */
export function exportTools(tools: readonly ToolSource[], format: ToolFormat): unknown {
  checkNames(tools);
  const sorted = [...tools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  switch (format) {
    case 'openai':
      return sorted.map((tool) => ({
        type: 'function',
        function: { name: tool.name, description: describe(tool), parameters: tool.inputSchema },
      }));
    case 'anthropic':
      return sorted.map((tool) => ({
        name: tool.name,
        description: describe(tool),
        input_schema: tool.inputSchema,
      }));
    case 'gemini':
      return {
        functionDeclarations: sorted.map((tool) => {
          const parameters = toGeminiParameters(tool.inputSchema);
          return { name: tool.name, description: describe(tool), ...(parameters ? { parameters } : {}) };
        }),
      };
    case 'mcp':
      return { tools: sorted.map(mcpTool) };
    default:
      throw new AppError('VALIDATION_FAILED', `format must be one of ${TOOL_FORMATS.join(', ')}`, {
        path: '/format',
      });
  }
}

function mcpTool(tool: ToolSource): Record<string, unknown> {
  const annotations: Record<string, unknown> = {};
  if (tool.title !== undefined) annotations.title = tool.title;
  if (tool.readOnly !== undefined) annotations.readOnlyHint = tool.readOnly;
  return {
    name: tool.name,
    ...(tool.title === undefined ? {} : { title: tool.title }),
    description: describe(tool),
    inputSchema: tool.inputSchema,
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

function describe(tool: ToolSource): string {
  if (tool.requiresConfirmation !== true) return tool.description;
  return tool.description.trim() === ''
    ? CONFIRMATION_NOTE
    : `${tool.description.trim()} ${CONFIRMATION_NOTE}`;
}

/** Names are chosen when actions are saved; a bad or repeated one here is a bug, not user input. */
function checkNames(tools: readonly ToolSource[]): void {
  const seen = new Set<string>();
  for (const tool of tools) {
    if (!TOOL_NAME_PATTERN.test(tool.name)) {
      throw new AppError(
        'INTERNAL',
        `The tool name ${JSON.stringify(tool.name)} is not valid in every format`,
      );
    }
    if (seen.has(tool.name))
      throw new AppError('INTERNAL', `The tool name ${JSON.stringify(tool.name)} is repeated`);
    seen.add(tool.name);
  }
}
