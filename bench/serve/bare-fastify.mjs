// The ceiling of the HTTP side (issue 21): a bare fastify route that answers every POST with a fixed JSON of
// 10 results shaped like /api/search's, on a loopback port it prints as "on http://127.0.0.1:PORT".
// Run by bench/serve/run.ts in a child process, so that the load generator has its own event loop.
import Fastify from 'fastify';

const results = Array.from({ length: 10 }, (_, i) => ({
  id: `item${i}`,
  path: null,
  label: `c${i}`,
  score: 0.9 - i / 100,
  thumb: `/api/thumbs/item${i}`,
}));
const body = JSON.stringify({ results, tookMs: 0.1 });
const app = Fastify({ logger: false });
app.post('/api/search', async (_req, reply) => reply.type('application/json').send(body));
const address = await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write(`on ${address}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
