/**
 * The action kinds and what each stores as its config: one map from kind name to config type. An
 * action's `kind` and `config` are typed together from it (checking `kind` narrows `config`), and the
 * kind registry (app/kinds/registry.ts) is checked against it at compile time: every kind has a module,
 * and each module normalizes to its kind's config.
 */
import type { CodeConfig } from './code.ts';
import type { HoldConfig } from './hold.ts';
import type { HttpConfig } from './http.ts';
import type { TransferConfig } from './transfer.ts';
import type { WorkflowConfig } from './workflow.ts';

export interface ActionConfigs {
  http: HttpConfig;
  code: CodeConfig;
  transfer: TransferConfig;
  hold: HoldConfig;
  workflow: WorkflowConfig;
}

export type ActionKindName = keyof ActionConfigs;

/** A kind with its config: a discriminated union by `kind`, one member per kind (of all kinds, or of K). */
export type KindConfig<K extends ActionKindName = ActionKindName> = {
  [P in K]: { kind: P; config: ActionConfigs[P] };
}[K];

/** Pairs a kind with its config, typed together (for code generic over the kind). */
export const kindConfig = <K extends ActionKindName>(kind: K, config: ActionConfigs[K]): KindConfig<K> => ({
  kind,
  config,
});
