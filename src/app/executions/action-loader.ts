/**
 * Loads the action an execution runs. A version of an action never changes, so an action read once is
 * reused for as long as its version is current; one small query per execution confirms that (and sees
 * deletes, status changes and edits made by any process). Reusing the same object also lets the
 * compiled input validator, cached per variables array, be reused.
 */
import type { Action } from '../../core/actions/model.ts';
import type { Store } from '../../core/ports/store.ts';

const CAPACITY = 2_000;

export class ActionLoader {
  readonly #store: Pick<Store, 'actions'>;
  readonly #cache = new Map<string, Action>();

  constructor(store: Pick<Store, 'actions'>) {
    this.#store = store;
  }

  async load(organizationId: string, id: string): Promise<Action | undefined> {
    const version = await this.#store.actions.currentVersion(organizationId, id);
    if (version === undefined) return undefined;
    const key = `${organizationId}/${id}@${version}`;
    const cached = this.#cache.get(key);
    if (cached) {
      // refresh its place in the LRU order
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    const action = await this.#store.actions.get(organizationId, id);
    if (!action || action.version !== version) return action;
    if (this.#cache.size >= CAPACITY) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(key, action);
    return action;
  }
}
