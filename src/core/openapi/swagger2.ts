/**
 * Swagger 2.0 → the OpenAPI 3.x model, as much as an import needs: host + basePath + schemes become a
 * server; body and formData parameters become a requestBody under the operation's `consumes`;
 * securityDefinitions become securitySchemes; `#/definitions/` references become `#/components/schemas/`.
 * A parameter `$ref` that cannot be resolved marks its operation with `x-import-problem`, so it is
 * reported as skipped rather than failing the whole document.
 */
import { FILES_KEY, UNREAD_KEY } from './bundle.ts';
import { resolvePointer } from './refs.ts';
import { ImportProblem, type Json, entries, isRecord, list, record, stringList, text } from './values.ts';

export const OPERATION_METHODS = [
  'get',
  'put',
  'post',
  'delete',
  'options',
  'head',
  'patch',
  'trace',
] as const;

const REF_PREFIXES: [string, string][] = [
  ['#/definitions/', '#/components/schemas/'],
  ['#/responses/', '#/components/responses/'],
  ['#/parameters/', '#/components/parameters/'],
];

/** Schema keywords a 2.0 non-body parameter carries itself (3.x moves them under `schema`). */
const SCHEMA_KEYWORDS = [
  'type',
  'format',
  'items',
  'enum',
  'default',
  'minimum',
  'maximum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
] as const;

export function convertSwagger2(doc: Json, documentUrl?: string): Json {
  const paths: Json = {};
  for (const [path, raw] of entries(doc.paths)) {
    if (!path.startsWith('/') || !isRecord(raw)) continue;
    const item: Json = {};
    for (const method of OPERATION_METHODS) {
      const operation = raw[method];
      if (isRecord(operation)) item[method] = convertOperation(doc, raw, operation);
    }
    paths[path] = item;
  }
  const definitions = record(doc.definitions);
  return {
    openapi: '3.0.3',
    info: record(doc.info),
    servers: [{ url: serverUrl(doc, documentUrl) }],
    paths,
    components: {
      schemas: rewriteRefs(definitions),
      responses: rewriteRefs(record(doc.responses)),
      securitySchemes: Object.fromEntries(
        entries(doc.securityDefinitions).map(([name, scheme]) => [name, convertScheme(record(scheme))]),
      ),
    },
    ...(Array.isArray(doc.security) ? { security: doc.security } : {}),
    // the files of a multi-file document, which references point into as they are
    ...(doc[FILES_KEY] === undefined ? {} : { [FILES_KEY]: doc[FILES_KEY], [UNREAD_KEY]: doc[UNREAD_KEY] }),
  };
}

function serverUrl(doc: Json, documentUrl: string | undefined): string {
  const basePath = (text(doc.basePath) ?? '').replace(/\/+$/, '');
  const host = text(doc.host);
  if (host === undefined) return basePath === '' ? '/' : basePath; // relative: the host serving the document
  const schemes = stringList(doc.schemes);
  const scheme = schemes.includes('https')
    ? 'https'
    : (schemes[0] ?? (documentUrl ? new URL(documentUrl).protocol.replace(':', '') : 'https'));
  return `${scheme}://${host}${basePath}`;
}

function convertOperation(doc: Json, pathItem: Json, operation: Json): Json {
  const { parameters: _parameters, consumes: _consumes, produces: _produces, responses, ...rest } = operation;
  const converted: Json = { ...(rewriteRefs(rest) as Json), responses: rewriteRefs(record(responses)) };
  let parameters: Json[];
  try {
    parameters = mergeParameters(doc, list(pathItem.parameters), list(operation.parameters));
  } catch (error) {
    if (!(error instanceof ImportProblem)) throw error;
    return { ...converted, 'x-import-problem': error.message };
  }
  const consumes = stringList(operation.consumes ?? doc.consumes);
  converted.parameters = parameters
    .filter((p) => p.in !== 'body' && p.in !== 'formData')
    .map(convertParameter);
  const body = parameters.find((p) => p.in === 'body');
  const form = parameters.filter((p) => p.in === 'formData');
  if (body) converted.requestBody = jsonBody(body, consumes);
  else if (form.length > 0) converted.requestBody = formBody(form, consumes);
  return converted;
}

/** Path-level parameters, overridden by the operation's own of the same name and location. */
function mergeParameters(doc: Json, pathLevel: unknown[], operationLevel: unknown[]): Json[] {
  const byKey = new Map<string, Json>();
  for (const raw of [...pathLevel, ...operationLevel]) {
    let parameter = raw;
    for (let hops = 0; isRecord(parameter) && typeof parameter.$ref === 'string'; hops++) {
      if (hops > 16) throw new ImportProblem(`the parameter $ref ${parameter.$ref} refers back to itself`);
      parameter = resolvePointer(doc, parameter.$ref);
    }
    if (!isRecord(parameter) || typeof parameter.name !== 'string') continue;
    byKey.set(`${String(parameter.in)}:${parameter.name}`, parameter);
  }
  return [...byKey.values()];
}

/**
 * 2.0's collectionFormat as 3.x's style and explode (csv is 2.0's default); tsv has no 3.x style and
 * keeps a name of its own, which the importer reports as one it cannot send.
 */
const COLLECTION_STYLES: Readonly<Record<string, Json>> = {
  csv: { style: 'form', explode: false },
  multi: { style: 'form', explode: true },
  ssv: { style: 'spaceDelimited', explode: false },
  pipes: { style: 'pipeDelimited', explode: false },
  tsv: { style: 'tabDelimited (collectionFormat tsv)', explode: false },
};

function styleOf(parameter: Json): Json {
  if (parameter.type !== 'array') return {};
  const format = text(parameter.collectionFormat) ?? 'csv';
  const style = Object.hasOwn(COLLECTION_STYLES, format)
    ? (COLLECTION_STYLES[format] as Json)
    : { style: `collectionFormat ${format}` };
  if (parameter.in === 'query') return style;
  // path and header lists: simple (csv) is the only style 3.x gives them
  return format === 'csv' ? { style: 'simple', explode: false } : style;
}

function convertParameter(parameter: Json): Json {
  const schema = Object.fromEntries(
    SCHEMA_KEYWORDS.filter((k) => k in parameter).map((k) => [k, parameter[k]]),
  );
  return {
    name: parameter.name,
    in: parameter.in,
    ...styleOf(parameter),
    ...(parameter.description === undefined ? {} : { description: parameter.description }),
    required: parameter.in === 'path' ? true : parameter.required === true,
    schema: rewriteRefs(schema),
    ...(parameter['x-example'] === undefined ? {} : { example: parameter['x-example'] }),
  };
}

function jsonBody(parameter: Json, consumes: string[]): Json {
  const types = consumes.length > 0 ? consumes : ['application/json'];
  const schema = rewriteRefs(parameter.schema ?? {});
  return {
    ...(parameter.description === undefined ? {} : { description: parameter.description }),
    required: parameter.required === true,
    content: Object.fromEntries(types.map((type) => [type, { schema }])),
  };
}

/** formData: urlencoded when the operation accepts it and sends no file, else multipart. */
function formBody(parameters: Json[], consumes: string[]): Json {
  const hasFile = parameters.some((p) => p.type === 'file');
  const type =
    !hasFile && (consumes.length === 0 || consumes.includes('application/x-www-form-urlencoded'))
      ? 'application/x-www-form-urlencoded'
      : 'multipart/form-data';
  const properties = Object.fromEntries(
    parameters.map((p) => {
      const { schema } = convertParameter(p) as { schema: Json };
      const withDescription =
        p.description === undefined ? schema : { ...schema, description: p.description };
      return [p.name as string, p.type === 'file' ? { type: 'string', format: 'binary' } : withDescription];
    }),
  );
  const required = parameters.filter((p) => p.required === true).map((p) => p.name as string);
  return {
    required: required.length > 0,
    content: { [type]: { schema: { type: 'object', properties, required } } },
  };
}

function convertScheme(scheme: Json): Json {
  const description = scheme.description === undefined ? {} : { description: scheme.description };
  switch (scheme.type) {
    case 'basic':
      return { type: 'http', scheme: 'basic', ...description };
    case 'apiKey':
      return { type: 'apiKey', name: scheme.name, in: scheme.in, ...description };
    case 'oauth2': {
      const scopes = record(scheme.scopes);
      const flow: Record<string, [string, Json]> = {
        application: ['clientCredentials', { tokenUrl: scheme.tokenUrl, scopes }],
        password: ['password', { tokenUrl: scheme.tokenUrl, scopes }],
        implicit: ['implicit', { authorizationUrl: scheme.authorizationUrl, scopes }],
        accessCode: [
          'authorizationCode',
          { authorizationUrl: scheme.authorizationUrl, tokenUrl: scheme.tokenUrl, scopes },
        ],
      };
      const [name, value] = flow[String(scheme.flow)] ?? ['unknown', {}];
      return { type: 'oauth2', flows: { [name]: value }, ...description };
    }
    default:
      return { ...scheme };
  }
}

/** A copy with 2.0 reference targets moved to where 3.x keeps them. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!isRecord(value)) return value;
  // built with fromEntries: a "__proto__" key in the document stays a plain key
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => {
      if (key !== '$ref' || typeof child !== 'string') return [key, rewriteRefs(child)];
      const prefix = REF_PREFIXES.find(([from]) => child.startsWith(from));
      return [key, prefix ? prefix[1] + child.slice(prefix[0].length) : child];
    }),
  );
}
