/** Wire schemas of Langdock's integrations API (its create, update and delete pages). */
import Type, { type TSchema } from 'typebox';
import { CODE_SOURCE_MAX_LENGTH } from '../../../core/actions/kinds/code.ts';
import { FIELD_TYPES } from './fields.ts';

export const LANGDOCK_LIMITS = Object.freeze({
  nameLength: 100,
  descriptionLength: 1_000,
  codeLength: CODE_SOURCE_MAX_LENGTH,
  inputFields: 100,
  labelLength: 100,
  fieldDescriptionLength: 500,
  placeholderLength: 200,
  options: 100,
  optionValueLength: 200,
});

const L = LANGDOCK_LIMITS;
/** Optional, and null like the response shows it, so a field read back can be sent again. */
const nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

const Option = Type.Union([
  Type.String({ minLength: 1, maxLength: L.optionValueLength }),
  Type.Object(
    {
      label: Type.Optional(Type.String({ minLength: 1, maxLength: L.labelLength })),
      value: Type.String({ minLength: 1, maxLength: L.optionValueLength }),
    },
    { additionalProperties: false },
  ),
]);

export const InputFieldBody = Type.Object(
  {
    label: Type.String({
      minLength: 1,
      maxLength: L.labelLength,
      description: 'The field’s label; its slug is the camelCase of it',
    }),
    type: Type.Optional(Type.Enum(FIELD_TYPES, { default: 'TEXT' })),
    description: nullable(Type.String({ maxLength: L.fieldDescriptionLength })),
    placeholder: nullable(Type.String({ maxLength: L.placeholderLength })),
    required: Type.Optional(Type.Boolean({ default: false })),
    options: nullable(
      Type.Array(Option, {
        maxItems: L.options,
        description: 'SELECT options: {label, value}, or a bare value',
      }),
    ),
    allowMultiSelect: nullable(Type.Boolean({ description: 'SELECT only: the value is a list' })),
    contextActionId: nullable(
      Type.String({
        format: 'uuid',
        description:
          'SELECT only: the action whose output lists the options (POST /v1/actions/{id}/variables/{slug}/options runs it)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ActionBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: L.nameLength }),
    description: nullable(Type.String({ maxLength: L.descriptionLength })),
    code: nullable(
      Type.String({
        maxLength: L.codeLength,
        description:
          'JavaScript, the body of an async function with `inputs`, `secrets` and `fetch` in scope',
      }),
    ),
    inputFields: nullable(Type.Array(InputFieldBody, { maxItems: L.inputFields })),
  },
  { additionalProperties: false },
);

const InputFieldView = Type.Object({
  slug: Type.String(),
  label: Type.String(),
  type: Type.Enum(FIELD_TYPES),
  description: Type.String(),
  placeholder: Type.Union([Type.String(), Type.Null()]),
  required: Type.Boolean(),
  order: Type.Integer(),
  options: Type.Union([Type.Array(Type.Object({ label: Type.String(), value: Type.String() })), Type.Null()]),
  allowMultiSelect: Type.Union([Type.Boolean(), Type.Null()]),
  contextActionId: Type.Union([Type.String(), Type.Null()]),
});

export const ActionResponse = Type.Object({
  action: Type.Object({
    id: Type.String(),
    name: Type.String(),
    slug: Type.String({ description: 'kebab-case of the name, unique in the organization; the tool name' }),
    description: Type.String(),
    code: Type.Union([Type.String(), Type.Null()]),
    order: Type.Integer({ description: 'Its place among the integration’s actions, 0-based' }),
    inputFields: Type.Array(InputFieldView),
  }),
});

export const DeleteResponse = Type.Object({
  message: Type.Literal('Action deleted'),
  id: Type.String(),
});

export const IntegrationParams = Type.Object({
  integrationId: Type.String({ maxLength: 256, description: 'UUID of the integration' }),
});

export const ActionParams = Type.Object({
  ...IntegrationParams.properties,
  actionId: Type.String({ maxLength: 256, description: 'UUID of the action' }),
});

export const LangdockError = Type.Object(
  {
    message: Type.String({ description: 'What went wrong and what to change' }),
    error: Type.String({ description: 'The HTTP reason phrase, e.g. Bad Request' }),
    statusCode: Type.Integer(),
    request_id: Type.String(),
  },
  { description: 'Every error of the Langdock-compatible routes' },
);
