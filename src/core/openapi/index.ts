/** OpenAPI import: a document → the http actions its operations become. See plan.ts. */
export { ReferencedFiles } from './bundle.ts';
export { MAX_DOCUMENT_DEPTH, parseDocumentText } from './document.ts';
export { MAX_OPERATIONS, planImport, type ImportPlan, type PlanOptions } from './plan.ts';
export type { PlannedAction, PlannedOperation, SkippedOperation } from './operation.ts';
export type { SchemeCredential, SchemeSummary } from './security.ts';
