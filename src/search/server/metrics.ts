// Prometheus metrics of one server (its own registry, so several servers in one process do not clash).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { LiveStats } from '../types.js';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route' | 'method'>;
  queueDepth: Gauge;
  indexItems: Gauge;
  embedBatch: Histogram;
  searchSeconds: Histogram<'kind' | 'mode'>;
  writes: Counter<'op' | 'result'>;
}

/** Where a live index's figures come from (read when /metrics is scraped). */
export type LiveSource = () => LiveStats | undefined;

/** A counter that follows a running total read at scrape time. */
function totalCounter(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  let last = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now !== undefined && now > last) {
        this.inc(now - last);
        last = now;
      }
    },
  });
}

export function createMetrics(items: () => number = () => 0, live: LiveSource = () => undefined): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'normsoftmax_' });
  totalCounter(
    registry,
    'normsoftmax_wal_bytes_total',
    'Bytes appended to the write-ahead log by this server',
    () => live()?.walBytes,
  );
  totalCounter(
    registry,
    'normsoftmax_wal_fsyncs_total',
    'Group commits of the write-ahead log (one fdatasync each)',
    () => live()?.walBatches,
  );
  totalCounter(
    registry,
    'normsoftmax_compactions_total',
    'Compactions of the live index done by this server',
    () => live()?.compactions,
  );
  new Gauge({
    name: 'normsoftmax_compacting',
    help: 'Whether a compaction of the live index is running (1) or not (0)',
    registers: [registry],
    collect() {
      this.set(live()?.compacting ? 1 : 0);
    },
  });
  new Gauge({
    name: 'normsoftmax_index_delta_items',
    help: 'Delta entries of the live index: items put since its generation files, and base rows they hide',
    registers: [registry],
    collect() {
      const s = live();
      this.set(s ? s.deltaItems + s.tombstones : 0);
    },
  });
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
      collect() {
        this.set(items());
      },
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
    writes: new Counter({
      name: 'normsoftmax_index_writes_total',
      help: 'Writes answered (durable), by operation (put, delete) and result (created, replaced, deleted)',
      labelNames: ['op', 'result'],
      registers: [registry],
    }),
  };
}
