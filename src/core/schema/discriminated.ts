import Type, { type Static, type TObject } from 'typebox';

/**
 * `oneOf` with an OpenAPI `discriminator`: Ajv (with `discriminator: true`) then validates only the
 * variant the tag names, so an error speaks about that variant's fields instead of every variant's.
 */
export function discriminated<V extends TObject[]>(propertyName: string, variants: [...V]) {
  return Type.Unsafe<Static<V[number]>>({ type: 'object', oneOf: variants, discriminator: { propertyName } });
}
