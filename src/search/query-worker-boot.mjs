// Entry of a query-embedder worker thread (registers tsx's loader hooks, which workers do not inherit).
import { register } from 'tsx/esm/api';

register();
await import('./query-worker.ts');
