/** The benchmark's upstream API: answers every request with a small JSON body, keep-alive. Prints its port. */
import { createServer } from 'node:http';

const body = JSON.stringify({ status: 'shipped', tracking: '1Z999AA10123456789', eta: '2026-11-27' });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, process.argv[2] ?? '127.0.0.2', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
