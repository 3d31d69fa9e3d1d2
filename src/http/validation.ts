import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const BASE: Options = {
  allErrors: false,
  strict: false,
  useDefaults: true,
  removeAdditional: false,
  coerceTypes: false,
  // oneOf + discriminator: validate only the variant the tag names, so errors speak about its fields
  discriminator: true,
};

/**
 * Bodies are validated strictly: an unknown field or a wrong type is a 400 that names it, never silently
 * dropped or coerced. Query strings, path parameters and headers arrive as text, so they are coerced.
 */
export function installValidation(app: FastifyInstance): void {
  const strict = addFormats(new Ajv(BASE));
  const coercing = addFormats(new Ajv({ ...BASE, coerceTypes: 'array' }));
  app.setValidatorCompiler<FastifySchema>(({ schema, httpPart }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema),
  );
}
