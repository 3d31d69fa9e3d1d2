/**
 * Canary listeners (docs/security.md, "Test harness"): TCP listeners on addresses outbound requests must
 * never reach, counting every accepted connection. Any non-zero count fails an SSRF test. A connection watch
 * adds the addresses this process dialled at all, for denied ranges no canary can listen on (10.x,
 * 169.254.169.254) without a dummy interface.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server, type Socket } from 'node:net';

export interface Canary {
  host: string;
  port: number;
  /** `http://host:port` (brackets for IPv6). */
  url: string;
  readonly accepts: number;
  close(): Promise<void>;
}

export interface Canaries {
  v4: Canary;
  v6: Canary;
  /** Accepts on every canary. */
  readonly accepts: number;
  close(): Promise<void>;
}

export async function startCanary(host: string, port = 0): Promise<Canary> {
  let accepts = 0;
  const server: Server = createServer((socket) => {
    accepts++;
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    host,
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    get accepts() {
      return accepts;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Canaries on 127.0.0.1 and [::1], on random ports unless given. */
export async function startCanaries(ports: { v4?: number; v6?: number } = {}): Promise<Canaries> {
  const v4 = await startCanary('127.0.0.1', ports.v4);
  const v6 = await startCanary('::1', ports.v6);
  return {
    v4,
    v6,
    get accepts() {
      return v4.accepts + v6.accepts;
    },
    close: async () => {
      await Promise.all([v4.close(), v6.close()]);
    },
  };
}

export interface ConnectionWatch {
  /** `address:port` of every TCP connection attempt this process started since the watch began. */
  attempts: string[];
  stop(): void;
}

/** Records every outbound TCP connection attempt (Node's `connectionAttempt`), whatever the client. */
export function watchConnections(): ConnectionWatch {
  const attempts: string[] = [];
  const onSocket = (message: unknown) => {
    const { socket } = message as { socket: Socket };
    socket.on('connectionAttempt', (ip: string, port: number) => attempts.push(`${ip}:${port}`));
  };
  subscribe('net.client.socket', onSocket);
  return { attempts, stop: () => unsubscribe('net.client.socket', onSocket) };
}
