/**
 * Variable names for parameters and body fields. A name is made valid (`X-Request-ID` → X_Request_ID);
 * when it is taken (a query `id` and a body `id`), a runtime variable or reserved, the later claimant
 * gets its location as a prefix (`body_id`), then a number. Claims go path, query, header, body, so the
 * outcome is the same on every import of the same document, and each rename is reported.
 */
import { RESERVED_NAMES, RUNTIME_VARIABLES } from '../actions/variable-model.ts';
import { quote } from './values.ts';

const MAX_LENGTH = 64;

/** A valid variable name for any text: invalid characters become "_", a leading digit gets one. */
export function variableName(raw: string): string {
  const base = raw.replace(/[^A-Za-z0-9_]+/g, '_').replace(/(?<=.)_+$/, '');
  const named = base === '' ? 'value' : /^[0-9]/.test(base) ? `_${base}` : base;
  return named.slice(0, MAX_LENGTH);
}

export class NameClaims {
  /** Lower-cased name → who holds it (names must differ by more than case). */
  private readonly holders = new Map<string, string>();

  constructor() {
    for (const name of RUNTIME_VARIABLES) this.holders.set(name, 'a runtime variable');
    for (const name of RESERVED_NAMES) this.holders.set(name.toLowerCase(), 'a reserved name');
  }

  /** Claims a name for `label` (`query parameter "id"`); a rename is added to `notes`. */
  claim(raw: string, place: string, label: string, notes: string[]): string {
    const base = variableName(raw);
    let name = base;
    const holder = this.holders.get(base.toLowerCase());
    if (holder !== undefined) {
      name = this.free(variableName(`${place}_${base}`));
      notes.push(`${label} is the variable ${name}: ${quote(base)} is ${holder}`);
    } else if (base !== raw) notes.push(`${label} is the variable ${name}`);
    this.holders.set(name.toLowerCase(), `taken by the ${label}`);
    return name;
  }

  private free(candidate: string): string {
    if (!this.holders.has(candidate.toLowerCase())) return candidate;
    for (let n = 2; ; n++) {
      const suffix = `_${n}`;
      const name = `${candidate.slice(0, MAX_LENGTH - suffix.length)}${suffix}`;
      if (!this.holders.has(name.toLowerCase())) return name;
    }
  }
}
