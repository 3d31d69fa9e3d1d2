/**
 * A signal aborted when the client closes its connection before the answer is sent, so the execution it
 * asked for stops (the upstream request or the sandbox run is aborted) and is recorded `cancelled`.
 */
import type { FastifyReply } from 'fastify';

export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const response = reply.raw;
  response.once('close', () => {
    // after an answer was written the close is the connection's ordinary end
    if (!response.writableEnded)
      controller.abort(new Error('The client closed the connection before the answer was sent'));
  });
  return controller.signal;
}
