import type { FastifyInstance } from 'fastify';
import { AppError } from '../../core/errors.ts';
import { DEFAULT_JSON_LIMITS, parseGuardedJson } from '../../core/json-guard.ts';

/**
 * Replaces Fastify's JSON parser: the bytes must be valid UTF-8 (decoded with `fatal`), and the text
 * goes through the ingress guard (depth, duplicate keys, string sizes) before anything walks it.
 */
export function installJsonBody(app: FastifyInstance, bodyLimit: number): void {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) {
      done(
        new AppError('INVALID_JSON', 'The body is empty; send a JSON document or omit Content-Type'),
        undefined,
      );
      return;
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      done(new AppError('INVALID_JSON', 'The body is not valid UTF-8'), undefined);
      return;
    }
    try {
      done(null, parseGuardedJson(text, DEFAULT_JSON_LIMITS));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
