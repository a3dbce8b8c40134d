// What an error may repeat of a value someone sent: at most EXCERPT_CHARS characters of it, quoted, so that
// a 4 MB string is never sent back whole (a service echoes no input) and a message stays one short line.

export const EXCERPT_CHARS = 100;

/** JSON-quoted when it is a string; cut to `max` characters with the full length said. */
export function excerpt(value: unknown, max = EXCERPT_CHARS): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  const cut = text.length > max;
  // Cut on a code point boundary, so that a surrogate pair is never split.
  const shown = cut
    ? Array.from(text.slice(0, max + 1))
        .slice(0, max)
        .join('')
        .slice(0, max)
    : text;
  const quoted = typeof value === 'string' ? JSON.stringify(shown) : shown;
  return cut ? `${quoted}... (${text.length} characters)` : quoted;
}
