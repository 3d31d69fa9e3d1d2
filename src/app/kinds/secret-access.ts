import { AppError } from '../../core/errors.ts';
import type { ResolvedSecret, RevealSecret } from '../../core/ports/secret-reveal.ts';
import type { SecretValue } from '../../core/redaction.ts';
import type { SecretRecord } from '../../core/secrets.ts';

/**
 * The secrets one execution may use: the ones its config names by id, and those its action and
 * integration declare by name. Everything revealed is remembered, so the record can be redacted of it.
 */
export class SecretAccess {
  readonly #reveal: RevealSecret;
  readonly #organizationId: string;
  readonly #byName: Readonly<Record<string, string>>;
  readonly #used = new Map<string, ResolvedSecret>();
  readonly #derived: SecretValue[] = [];

  constructor(reveal: RevealSecret, organizationId: string, byName: Readonly<Record<string, string>>) {
    this.#reveal = reveal;
    this.#organizationId = organizationId;
    this.#byName = byName;
  }

  async byId(id: string): Promise<ResolvedSecret> {
    const known = this.#used.get(id);
    if (known) return known;
    let resolved: ResolvedSecret;
    try {
      resolved = await this.#reveal(this.#organizationId, id);
    } catch (error) {
      if (error instanceof AppError && error.code === 'NOT_FOUND') {
        throw new AppError(
          'UNPROCESSABLE',
          `The action uses secret ${id}, which no longer exists; store it again or change the action`,
        );
      }
      throw error;
    }
    this.#used.set(id, resolved);
    return resolved;
  }

  async byName(name: string): Promise<ResolvedSecret> {
    const id = this.#byName[name];
    if (!id)
      throw new AppError(
        'UNPROCESSABLE',
        `The action uses secrets.${name}, which neither it nor its integration declares`,
      );
    return this.byId(id);
  }

  /** Names this run may read by name (code actions see exactly these). */
  get declaredNames(): string[] {
    return Object.keys(this.#byName);
  }

  /** A value derived from secrets (a Basic credential, an OAuth token) that must be redacted too. */
  derive(name: string, value: string): void {
    this.#derived.push({ name, value });
  }

  /** Every secret value this run touched, for the redactor. */
  values(): SecretValue[] {
    return [
      ...[...this.#used.values()].map(({ record, value }) => ({ name: record.name, value })),
      ...this.#derived,
    ];
  }

  /** The secrets used so far, for host binding checks. */
  records(): SecretRecord[] {
    return [...this.#used.values()].map(({ record }) => record);
  }
}
