/** Wire schemas of POST /v1/imports/openapi. */
import Type from 'typebox';
import { MAX_OPERATIONS } from '../../core/openapi/index.ts';

const SecretId = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'Id of a secret of your organization',
});

const SchemeSecret = Type.Union([
  SecretId,
  Type.Object(
    {
      secret_id: SecretId,
      username: Type.Optional(
        Type.String({ maxLength: 256, description: 'HTTP basic: the username (the secret is the password)' }),
      ),
      client_id: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 512,
          description: 'OAuth2 client credentials: the client id',
        }),
      ),
      token_url: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 2048,
          description: 'OAuth2: a token URL to use instead of the one the document gives',
        }),
      ),
      scopes: Type.Optional(
        Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
          maxItems: 50,
          description: 'OAuth2: scopes to ask for when the operation names none',
        }),
      ),
    },
    { additionalProperties: false },
  ),
]);

export const ImportOpenApiBody = Type.Object(
  {
    document: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Object({}, { additionalProperties: true })], {
        description: 'The OpenAPI 3.0 / 3.1 or Swagger 2.0 document: JSON or YAML text, or the parsed object',
      }),
    ),
    url: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description:
          'Where to fetch the document (through the egress guard; at most 5 MB), and the URL the files its $refs name are fetched relative to (at most 2,000 files, 32 MB)',
      }),
    ),
    select: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), {
        minItems: 1,
        maxItems: MAX_OPERATIONS,
        description:
          'Keys of the operations to import (operationId, or "METHOD /path"), as a preview lists them',
      }),
    ),
    base_url: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: "Replaces the document's server URL (path included) for every operation",
      }),
    ),
    secrets: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 128 }), SchemeSecret, {
        description:
          'Security scheme name → secret id, or {secret_id, username} for HTTP basic, {secret_id, client_id} for OAuth2',
      }),
    ),
    dry_run: Type.Optional(
      Type.Boolean({ description: 'Preview only; a request without select is always a preview' }),
    ),
  },
  { additionalProperties: false },
);

const Nullable = Type.Union([Type.String(), Type.Null()]);
const Notes = Type.Array(Type.String(), { description: 'What was approximated, renamed or left out' });

const DocumentView = Type.Object({
  format: Type.String({ description: 'openapi 3.1.0, swagger 2.0, ...' }),
  title: Nullable,
  version: Nullable,
  url: Type.Union([Type.String(), Type.Null()], { description: 'Where it was fetched from' }),
  server: Type.Union([Type.String(), Type.Null()], {
    description: 'The base URL used, or null when a relative server needs base_url',
  }),
});

const SchemeView = Type.Object({
  name: Type.String(),
  type: Type.String(),
  auth: Nullable,
  secret: Type.String({ description: 'provided or missing' }),
  reason: Type.Optional(Type.String()),
});

const SkippedView = Type.Object({
  key: Type.String(),
  operation_id: Nullable,
  method: Nullable,
  path: Nullable,
  reason: Type.String(),
});

const OperationView = Type.Object({
  key: Type.String(),
  operation_id: Nullable,
  method: Type.String(),
  path: Type.String(),
  action: Type.Object(
    {},
    {
      additionalProperties: true,
      description: 'The action it becomes: a body POST /v1/actions accepts',
    },
  ),
  notes: Notes,
});

export const ImportPreviewView = Type.Object({
  dry_run: Type.Literal(true),
  document: DocumentView,
  security_schemes: Type.Array(SchemeView),
  operations: Type.Array(OperationView),
  skipped: Type.Array(SkippedView, { description: 'Operations that cannot be imported, with the reason' }),
});

export const ImportResultView = Type.Object({
  dry_run: Type.Literal(false),
  document: DocumentView,
  created: Type.Array(
    Type.Object({
      key: Type.String(),
      action_id: Type.String(),
      name: Type.String(),
      tool_name: Type.String(),
      notes: Notes,
    }),
  ),
  refused: Type.Array(
    Type.Object({
      key: Type.String(),
      reason: Type.String(),
      issues: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
    { description: 'Selected operations not created, with the reason' },
  ),
});
