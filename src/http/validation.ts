import { Ajv, type Options, type ValidateFunction } from 'ajv';
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

/** Ajv's validate call as Fastify makes it: with the parent, so a root value can be coerced in place. */
type Validate = ((data: unknown, context?: object) => boolean) & {
  errors?: ValidateFunction['errors'];
  schemaEnv?: unknown;
};

/**
 * A validator compiled when it first validates. Fastify compiles every route's schemas as it starts, and
 * most routes are never called in a given process's life: the compiled code would only take memory and
 * start-up time. What it validates, and how, is the same.
 */
function compiledOnUse(compile: () => ValidateFunction): Validate {
  let compiled: ValidateFunction | undefined;
  const validate: Validate = (data, context) => {
    compiled ??= compile();
    const valid = compiled(data, context as Parameters<ValidateFunction>[1]);
    validate.errors = compiled.errors;
    return valid;
  };
  // Fastify hands Ajv functions (which have a schemaEnv) the request as the parent of what they check
  validate.schemaEnv = true;
  return validate;
}

/**
 * Bodies are validated strictly: an unknown field or a wrong type is a 400 that names it, never silently
 * dropped or coerced. Query strings, path parameters and headers arrive as text, so they are coerced.
 */
export function installValidation(app: FastifyInstance): void {
  const strict = addFormats(new Ajv(BASE));
  const coercing = addFormats(new Ajv({ ...BASE, coerceTypes: 'array' }));
  app.setValidatorCompiler<FastifySchema>(({ schema, httpPart }) =>
    compiledOnUse(() => (httpPart === 'body' ? strict : coercing).compile(schema)),
  );
}
