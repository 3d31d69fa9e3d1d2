/**
 * Agents: a chat or voice agent's instructions, channels and the actions it may use. An agent is a
 * `draft` until it is published; publishing freezes a version (the action set as action id and action
 * version pairs, with the name, instructions and channels) that the agent serves until it is published
 * again. Any change to what a version freezes puts the agent back to `draft`: its own fields, or
 * creating, changing or deleting one of its actions.
 */
import type { Channel } from './actions/model.ts';

export const AGENT_STATUSES = ['draft', 'published'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const AGENT_LIMITS = {
  name: 200,
  instructions: 20_000,
  actions: 200,
} as const;

/** The fields a published version freezes, apart from the action versions. */
export interface AgentDefinition {
  name: string;
  instructions: string;
  channels: Channel[];
}

export interface Agent extends AgentDefinition {
  id: string;
  organizationId: string;
  /** The actions it may use, in the order given; each a live action of the organization. */
  actionIds: string[];
  status: AgentStatus;
  /** The version it serves; null until first published. */
  publishedVersion: number | null;
  createdAt: string;
  updatedAt: string;
}

/** One action of a published version, frozen at the version it had when the agent was published. */
export interface FrozenAction {
  actionId: string;
  version: number;
}

export interface AgentVersion extends AgentDefinition {
  agentId: string;
  version: number;
  actions: FrozenAction[];
  publishedAt: string;
  /** The API key that published it. */
  publishedBy: string | null;
}

/** Whether two action id lists hold the same actions in the same order. */
export const sameList = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((id, i) => id === b[i]);

/** Whether a change to `next` would change what the agent's next version freezes. */
export function changesDefinition(current: Agent, next: AgentDefinition & { actionIds: string[] }): boolean {
  return (
    current.name !== next.name ||
    current.instructions !== next.instructions ||
    !sameList(current.channels, next.channels) ||
    !sameList(current.actionIds, next.actionIds)
  );
}
