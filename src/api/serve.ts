// serve for library users: the visual-search HTTP service and its page, as `normsoftmax serve` runs it, in
// this process; close() stops it (in-flight requests finish).
import { type RunningService, type ServiceStart, startSearchService } from '../search/server/start-service.js';

export type ServeOptions = ServiceStart;
export type SearchService = Pick<RunningService, 'url' | 'stats' | 'close'>;

/** Starts the service over an index folder; resolves once it listens (port 0: any free port, see url). */
export async function serve(options: ServeOptions): Promise<SearchService> {
  const service = await startSearchService(options);
  return { url: service.url, stats: () => service.stats(), close: () => service.close() };
}
