// Download failures meant for people: one line saying what failed and what to do.
export class DownloadError extends Error {
  override name = 'DownloadError';
}
