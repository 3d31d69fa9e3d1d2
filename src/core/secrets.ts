/** A stored credential's metadata. The value is write-only and never part of this record. */
export interface SecretRecord {
  id: string;
  organizationId: string;
  name: string;
  description: string | null;
  /**
   * Hosts the value may be sent to, set only by holders of secrets:write. Empty: an http action sends
   * it only to the host it calls, and code that can read it may fetch nothing.
   */
  allowedHosts: string[];
  keyVersion: number;
  createdAt: string;
  updatedAt: string;
}

/** AES-256-GCM output: ciphertext with its tag, the nonce, and the master key version that sealed it. */
export interface SealedSecret {
  ciphertext: Uint8Array;
  nonce: Uint8Array;
  keyVersion: number;
}

/** What the additional authenticated data binds a ciphertext to: its own row and organization. */
export interface SecretBinding {
  organizationId: string;
  secretId: string;
}

export const SECRET_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';

/** NAME → secret id that an action can read: its integration's secrets, and its own, which win on a name. */
export const secretsInScope = (
  integration: { secrets: Readonly<Record<string, string>> } | null,
  own: Readonly<Record<string, string>>,
): Record<string, string> => ({ ...integration?.secrets, ...own });
