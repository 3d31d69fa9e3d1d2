/**
 * The least any Node server in the middle can cost: node:http forwarding each request to the upstream
 * over a keep-alive agent, doing nothing else. Prints its port.
 */
import { Agent, createServer, request } from 'node:http';

const [upstreamHost = '127.0.0.2', upstreamPort = '0'] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const server = createServer((req, res) => {
  const forward = request(
    {
      host: upstreamHost,
      port: Number(upstreamPort),
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    },
    (upstream) => {
      res.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(res);
    },
  );
  forward.on('error', () => res.writeHead(502).end());
  req.pipe(forward);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
