import { AppError } from '../../core/errors.ts';
import type { ActionKind, AnyActionKind } from './kind.ts';

/** kind name → its module. The only place that lists the kinds. */
export class KindRegistry {
  readonly #kinds: ReadonlyMap<string, ActionKind>;

  constructor(kinds: readonly AnyActionKind[]) {
    this.#kinds = new Map(kinds.map((k) => [k.kind, k as ActionKind]));
  }

  get names(): string[] {
    return [...this.#kinds.keys()];
  }

  all(): ActionKind[] {
    return [...this.#kinds.values()];
  }

  get(kind: string): ActionKind {
    const found = this.#kinds.get(kind);
    if (!found) {
      throw new AppError(
        'VALIDATION_FAILED',
        `Unknown action kind "${kind}"; this server runs: ${this.names.join(', ')}`,
        { path: '/kind' },
      );
    }
    return found;
  }
}
