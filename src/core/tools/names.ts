/**
 * Tool names valid in every format Switchboard exports at once. What each provider accepts:
 * - OpenAI function tools: a-z, A-Z, 0-9, "_" and "-", at most 64 (`^[a-zA-Z0-9_-]{1,64}$` in its errors).
 * - Anthropic Messages tools: `^[a-zA-Z0-9_-]{1,64}$` (API error text; newer models allow 128).
 * - Gemini FunctionDeclaration.name: starts with a letter or "_"; a-z, A-Z, 0-9, "_", ".", ":", "-";
 *   at most 64, though older Gemini reference pages say 63.
 * - MCP Tool.name (SEP-986): `[A-Za-z0-9._-]`, 1 to 128 characters.
 * The intersection, taking the stricter 63: first a letter or "_", then letters, digits, "_" or "-".
 */
export const TOOL_NAME_MAX_LENGTH = 63;
export const TOOL_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

/**
 * The tool name for an action: a snake_case slug of its name ("Lookup Order" → lookup_order, accents
 * dropped, camelCase split) that starts with a letter, fits TOOL_NAME_MAX_LENGTH, and is made unique
 * against `taken` with _2, _3, ...
 */
export function toolNameFor(actionName: string, taken: ReadonlySet<string>): string {
  const base = slug(actionName);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `_${n}`;
    const candidate = `${trimUnderscores(base.slice(0, TOOL_NAME_MAX_LENGTH - suffix.length))}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function slug(name: string): string {
  const words = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_');
  let result = trimUnderscores(words);
  if (result === '') return 'action';
  if (!/^[a-z]/.test(result)) result = `action_${result}`;
  return trimUnderscores(result.slice(0, TOOL_NAME_MAX_LENGTH));
}

function trimUnderscores(text: string): string {
  return text.replace(/^_+|_+$/g, '');
}
