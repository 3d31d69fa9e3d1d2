/** Reading a stored secret's value, for the few that must (an execution's kind, a webhook's signature). */
import type { SecretRecord } from '../secrets.ts';

export interface ResolvedSecret {
  record: SecretRecord;
  value: string;
}

/** Reveals a secret of one organization by id (the secret service's reveal). */
export type RevealSecret = (organizationId: string, id: string) => Promise<ResolvedSecret>;
