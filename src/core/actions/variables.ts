/**
 * An action's variables, end to end: the model (types, names, limits), the save-time check, the input
 * schema a model is given, and the preparation of the inputs a tool call brings. One import for callers;
 * each part lives in its own file.
 */
export {
  ITEM_TYPES,
  RUNTIME_VARIABLES,
  VARIABLE_LIMITS,
  VARIABLE_NAME_PATTERN,
  VARIABLE_TYPES,
  WIDGETS,
  WIDGET_TYPES,
  type ItemType,
  type Variable,
  type VariableItems,
  type VariableType,
  type Widget,
} from './variable-model.ts';
export { checkVariables, type VariableIssue } from './check-variables.ts';
export { compileInputSchema, type JsonSchema, type JsonSchemaObject } from './input-schema.ts';
export {
  prepareInputs,
  type InputIssue,
  type PrepareContext,
  type PreparedInputs,
} from './prepare-inputs.ts';
export { coerceValue, type Coerced } from './coerce.ts';
