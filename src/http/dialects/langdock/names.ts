/**
 * Langdock's generated names: an input field's slug is the camelCase of its label ("User ID" → userId),
 * an action's slug the kebab-case of its name ("Get User Data" → get-user-data). Both are made unique
 * with a numeric suffix (userId2, get-user-data-2).
 */
import { RESERVED_NAMES, RUNTIME_VARIABLES } from '../../../core/actions/variable-model.ts';
import { TOOL_NAME_MAX_LENGTH } from '../../../core/tools/names.ts';

/** The longest field slug: a variable name holds at most 64 characters. */
const FIELD_SLUG_MAX_LENGTH = 64;

/** Letters and digits of a label, split into words: accents dropped, camelCase and acronyms split. */
function words(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '');
}

/** "User ID" → userId; a label with no letters or digits → field; one starting with a digit → field2fa. */
export function camelSlug(label: string): string {
  const [first = '', ...rest] = words(label).map((word) => word.toLowerCase());
  let slug = first + rest.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
  if (slug === '') slug = 'field';
  else if (/^[0-9]/.test(slug)) slug = `field${slug}`;
  return slug.slice(0, FIELD_SLUG_MAX_LENGTH);
}

/** Names a variable may not take: the server's runtime variables and Object.prototype's keys. */
const UNAVAILABLE = [...RUNTIME_VARIABLES, ...RESERVED_NAMES].map((name) => name.toLowerCase());

/**
 * The slug of each label, unique ignoring case (variable names must differ by more than case) and never
 * a runtime variable's name: "Timezone" → timezone2.
 */
export function fieldSlugs(labels: readonly string[]): string[] {
  const taken = new Set(UNAVAILABLE);
  return labels.map((label) => {
    const base = camelSlug(label);
    let slug = base;
    for (let n = 2; taken.has(slug.toLowerCase()); n++) {
      const suffix = String(n);
      slug = `${base.slice(0, FIELD_SLUG_MAX_LENGTH - suffix.length)}${suffix}`;
    }
    taken.add(slug.toLowerCase());
    return slug;
  });
}

/** "Get User Data" → get-user-data; starts with a letter and fits a tool name. */
export function kebabSlug(name: string): string {
  let slug = words(name)
    .map((word) => word.toLowerCase())
    .join('-');
  if (slug === '') slug = 'action';
  else if (!/^[a-z]/.test(slug)) slug = `action-${slug}`;
  return trimHyphens(slug.slice(0, TOOL_NAME_MAX_LENGTH));
}

/** The action's slug, unique in the organization against `taken` with -2, -3, ... */
export function actionSlugFor(name: string, taken: ReadonlySet<string>): string {
  const base = kebabSlug(name);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `-${n}`;
    const candidate = `${trimHyphens(base.slice(0, TOOL_NAME_MAX_LENGTH - suffix.length))}${suffix}`;
    if (!taken.has(candidate)) return candidate;
  }
}

function trimHyphens(text: string): string {
  return text.replace(/-+$/, '');
}
