/**
 * Fault injection for crash tests (docs/security.md, "Test harness", G-15): the points of a workflow step at
 * which a test may have the process die. In production the port does nothing.
 */
export const FAULT_POINTS = [
  /** A run is saved and its first job is not yet enqueued. */
  'run-saved',
  /** A step's attempt is counted and committed, and the step has not begun. */
  'step-started',
  /** The step's work is done (its response received) and its result is not yet committed. */
  'step-finished',
  /** The step's result is committed and the next step is not yet enqueued. */
  'step-committed',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export type Faults = (point: FaultPoint) => void;

/**
 * What the process does at the fault: `kill` dies (SIGKILL, a crash); `stop` pauses (SIGSTOP) until the
 * test sends SIGCONT, as a worker frozen past its lease by a GC pause or a suspended VM does.
 */
export const FAULT_ACTIONS = ['kill', 'stop'] as const;
export type FaultAction = (typeof FAULT_ACTIONS)[number];

/** SWITCHBOARD_FAULT_AT: the point, which time reaching it strikes, and what happens then. */
export interface FaultSetting {
  point: FaultPoint;
  nth: number;
  action: FaultAction;
}

export const noFaults: Faults = () => undefined;
