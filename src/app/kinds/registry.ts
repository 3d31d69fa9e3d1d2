import type { ActionConfigs, ActionKindName, KindConfig } from '../../core/actions/kinds/index.ts';
import { kindConfig } from '../../core/actions/kinds/index.ts';
import { AppError } from '../../core/errors.ts';
import type { ActionKind } from './kind.ts';

/**
 * Every kind's module by the kind's name (core/actions/kinds/index.ts): a kind without a module, or a
 * module that makes another kind's config, does not compile.
 */
export type KindModules = { readonly [K in ActionKindName]: ActionKind<ActionConfigs[K]> };

/** kind name → its module. The only place that lists the kinds. */
export class KindRegistry {
  readonly #kinds: KindModules;

  constructor(kinds: KindModules) {
    for (const [name, kind] of Object.entries(kinds))
      if (kind.kind !== name) throw new Error(`The ${kind.kind} kind is registered as ${name}`);
    this.#kinds = kinds;
  }

  get names(): string[] {
    return Object.keys(this.#kinds);
  }

  all(): ActionKind[] {
    return Object.values(this.#kinds);
  }

  has(kind: string): kind is ActionKindName {
    return Object.hasOwn(this.#kinds, kind);
  }

  /** A kind's module; it only ever receives the config its own normalize() made. */
  get(kind: string): ActionKind {
    if (!this.has(kind)) throw this.#unknown(kind);
    return this.#kinds[kind];
  }

  /** The kind's document as given (the wire's `http`, `code`, ...), normalized: what is stored. */
  normalize(kind: string, input: unknown): KindConfig {
    if (!this.has(kind)) throw this.#unknown(kind);
    return kindConfig(kind, this.#kinds[kind].normalize(input));
  }

  #unknown(kind: string): AppError {
    return new AppError(
      'VALIDATION_FAILED',
      `Unknown action kind "${kind}"; this server runs: ${this.names.join(', ')}`,
      { path: '/kind' },
    );
  }
}
