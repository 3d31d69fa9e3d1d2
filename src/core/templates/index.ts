export { TemplateError, type TemplateErrorCode } from './errors.ts';
export {
  REFERENCE_PATTERN,
  hasReferences,
  parseTemplate,
  referencesIn,
  referencesInTree,
  soleReference,
  type Segment,
} from './parse.ts';
export {
  renderForm,
  renderHeaders,
  renderJson,
  renderString,
  renderUrl,
  splitUrlTemplate,
  toText,
  type Lookup,
  type UrlTemplate,
} from './render.ts';
