// GET /health: 200 while every part of the service can answer, 503 (naming the part) while one cannot, e.g.
// its worker thread died and is being restarted (util/supervised-worker.ts). Also the version, the index's
// generation and the search queue's depth, for a load balancer or a person.
import type { FastifyInstance } from 'fastify';
import type { PartHealth } from '../../util/supervised-worker.js';
import { packageVersion } from '../../util/version.js';
import type { QueryEmbedder, VisualSearchIndex } from '../types.js';

const OK: PartHealth = { state: 'ok', restarts: 0, lastExit: null };

export interface HealthSources {
  index: VisualSearchIndex;
  embedder: QueryEmbedder | null;
  queueDepth: () => number;
}

export function registerHealth(app: FastifyInstance, s: HealthSources): void {
  app.get('/health', async (_req, reply) => {
    const parts: Record<string, PartHealth> = { search: s.index.health?.() ?? OK };
    if (s.embedder) parts.embedder = s.embedder.health?.() ?? OK;
    const down = Object.entries(parts).filter(([, p]) => p.state !== 'ok');
    const stats = s.index.stats();
    const body = {
      status: down.length === 0 ? 'ok' : 'unavailable',
      ...(down.length > 0
        ? {
            error: down
              .map(([name, p]) => `${name} worker ${p.state}${p.lastExit ? ` (${p.lastExit})` : ''}`)
              .join('; '),
          }
        : {}),
      version: packageVersion(),
      generation: stats.generation,
      items: stats.items,
      queue: s.queueDepth(),
      parts,
    };
    if (down.length > 0) reply.code(503).header('retry-after', '1');
    return body;
  });
}
