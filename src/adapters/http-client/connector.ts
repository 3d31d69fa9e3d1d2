/**
 * The socket factory of the client's agents: undici's own connector with the guarded lookup, and a
 * connect timeout on a native timer (undici's coarse timers fire up to a second late on short ones).
 */
import type { LookupFunction, Socket } from 'node:net';
import { buildConnector } from 'undici';
import { EgressError } from '../../core/ports/http-client.ts';

export function createConnector(lookup: LookupFunction, timeoutMs: number): buildConnector.connector {
  // timeout 0 turns undici's own timer off; the one below covers the lookup and the handshakes.
  const connect = buildConnector({ lookup, autoSelectFamily: true, timeout: 0 });
  return (options, callback) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket?.destroy();
      callback(
        new EgressError('CONNECT_TIMEOUT', `could not connect to ${options.hostname} within ${timeoutMs} ms`),
        null,
      );
    }, timeoutMs);
    // undici's connector returns the socket it is opening (its type says void).
    const socket = connect(options, (...result) => {
      clearTimeout(timer);
      if (settled) {
        result[1]?.destroy();
        return;
      }
      settled = true;
      callback(...result);
    }) as unknown as Socket | undefined;
  };
}
