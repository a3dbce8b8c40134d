// Text into HTML: the five characters that can break out of text or a quoted attribute, as numeric entities.
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
