// What both backends check and default in a search request before they search.

/** Rerank: Hamming candidates = oversample x k, re-scored with the float vectors. */
export const DEFAULT_OVERSAMPLE = 4;
