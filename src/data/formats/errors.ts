// Errors in what the user pointed us at (a missing list file, a malformed line): one line naming the file.
export class DatasetError extends Error {
  override name = 'DatasetError';
}
