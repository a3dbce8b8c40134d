// Prometheus metrics of one server (its own registry, so several servers in one process do not clash).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route' | 'method'>;
  queueDepth: Gauge;
  indexItems: Gauge;
  embedBatch: Histogram;
  searchSeconds: Histogram<'kind' | 'mode'>;
}

export function createMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'normsoftmax_' });
  return {
    registry,
    requests: new Counter({
      name: 'normsoftmax_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'normsoftmax_http_request_duration_seconds',
      help: 'Time from receiving a request to sending its answer, by route pattern',
      labelNames: ['route', 'method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'normsoftmax_search_queue_depth',
      help: 'Searches admitted and not yet finished (running or waiting)',
      registers: [registry],
    }),
    indexItems: new Gauge({
      name: 'normsoftmax_index_items',
      help: 'Items in the served index',
      registers: [registry],
    }),
    embedBatch: new Histogram({
      name: 'normsoftmax_embed_batch_size',
      help: 'Query images per embed call (micro-batching)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    searchSeconds: new Histogram({
      name: 'normsoftmax_search_duration_seconds',
      help: 'Time inside the index search (and the embedder for image queries), by query kind and mode',
      labelNames: ['kind', 'mode'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
