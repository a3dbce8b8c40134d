// A parser for the Python literals in .npy headers: dicts, tuples, lists, strings, ints, True/False/None.
export type PyLiteral = string | number | boolean | null | PyLiteral[] | { [key: string]: PyLiteral };

/** Parses one Python literal; throws an Error saying where the text stops making sense. */
export function parsePyLiteral(text: string): PyLiteral {
  let pos = 0;
  const fail = (what: string): never => {
    throw new Error(
      `${what} at character ${pos} of ${JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text)}`,
    );
  };
  const skip = () => {
    while (pos < text.length && /\s/.test(text[pos] as string)) pos++;
  };
  const expect = (ch: string) => {
    skip();
    if (text[pos] !== ch) fail(`expected '${ch}'`);
    pos++;
  };
  // Items up to `close`, separated by commas, with an optional trailing comma.
  const sequence = (close: string, item: () => void) => {
    skip();
    while (text[pos] !== close) {
      item();
      skip();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
      skip();
    }
    pos++;
  };
  const str = (): string => {
    const quote = text[pos] as string;
    const end = text.indexOf(quote, pos + 1);
    if (end < 0) fail('unterminated string');
    const body = text.slice(pos + 1, end);
    if (body.includes('\\')) fail('escape sequences are not supported in strings');
    pos = end + 1;
    return body;
  };
  const value = (): PyLiteral => {
    skip();
    const ch = text[pos];
    if (ch === "'" || ch === '"') return str();
    if (ch === '(' || ch === '[') {
      pos++;
      const items: PyLiteral[] = [];
      sequence(ch === '(' ? ')' : ']', () => items.push(value()));
      return items;
    }
    if (ch === '{') {
      pos++;
      const dict: { [key: string]: PyLiteral } = {};
      sequence('}', () => {
        skip();
        if (text[pos] !== "'" && text[pos] !== '"') fail('expected a string key');
        const key = str();
        expect(':');
        Object.defineProperty(dict, key, { value: value(), enumerable: true, writable: true, configurable: true });
      });
      return dict;
    }
    const word = /^(True|False|None|-?\d+L?)/.exec(text.slice(pos, pos + 32));
    if (!word) return fail('expected a value');
    pos += (word[0] as string).length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    const n = Number.parseInt(word[0] as string, 10);
    if (!Number.isSafeInteger(n)) fail(`integer ${word[0]} is too large`);
    return n;
  };
  const result = value();
  skip();
  if (pos !== text.length) fail('unexpected text after the value');
  return result;
}
