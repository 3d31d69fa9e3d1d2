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
  OMIT,
  compileForm,
  compileHeaders,
  compileJson,
  compileString,
  compileUrl,
  formEncode,
  type JsonOptions,
  type Renderer,
} from './compile.ts';
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
export {
  PARAMETER_STYLES,
  STYLES_BY_PLACE,
  explodes,
  serializationProblem,
  type ParameterPlace,
  type ParameterStyle,
  type Serialization,
} from './serialize.ts';
