// JSON checking for the detail view's editor: where a text stops being JSON (offset, line,
// column) and why, in the same words in every browser (each engine words JSON.parse's errors
// differently, and some give no position at all).

const WS = " \t\n\r";
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES = '"\\/bfnrtu';

/** The first syntax error of `text` as `{offset, message}`, or null when it is one JSON value. */
function firstError(text) {
  let i = 0;
  const fail = (message) => {
    throw { offset: i, message };
  };
  const ws = () => {
    while (i < text.length && WS.includes(text[i])) i++;
  };
  const string = () => {
    i++; // the opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        const e = text[i + 1];
        if (e === undefined || !ESCAPES.includes(e)) {
          i++;
          fail("invalid escape in a string");
        }
        if (e === "u" && !/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          i += 2;
          fail("\\u needs four hex digits");
        }
        i += e === "u" ? 6 : 2;
        continue;
      }
      if (c < " ") fail("control character in a string (write \\n, \\t…)");
      i++;
    }
    fail("unterminated string");
  };
  const number = () => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) fail("invalid number");
    i += m[0].length;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === undefined) fail("unexpected end: a value is missing");
    if (c === "{") return object();
    if (c === "[") return array();
    if (c === '"') return string();
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    if (c === "'") fail("strings need double quotes");
    fail(`unexpected character ${JSON.stringify(c)}`);
  };
  const object = () => {
    i++;
    ws();
    if (text[i] === "}") {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') fail("expected a property name in double quotes");
      string();
      ws();
      if (text[i] !== ":") fail("expected ':' after the property name");
      i++;
      value();
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        return;
      }
      fail("expected ',' or '}'");
    }
  };
  const array = () => {
    i++;
    ws();
    if (text[i] === "]") {
      i++;
      return;
    }
    for (;;) {
      value();
      ws();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "]") {
        i++;
        return;
      }
      fail("expected ',' or ']'");
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail("unexpected text after the value");
    return null;
  } catch (e) {
    if (e instanceof Error) throw e;
    return e;
  }
}

/**
 * Parses `text` as one JSON value: `{ok: true, value}`, or `{ok: false, message, offset, line,
 * column}` (line and column count from 1) naming the first place where it is not JSON.
 */
export function parseJson(text) {
  const err = firstError(text);
  if (!err) return { ok: true, value: JSON.parse(text) };
  const before = text.slice(0, err.offset);
  const line = before.split("\n").length;
  const column = err.offset - before.lastIndexOf("\n");
  return { ok: false, message: err.message, offset: err.offset, line, column };
}

/** A value as the editor shows it: pretty JSON, two spaces. */
export function prettyJson(value) {
  return JSON.stringify(value, null, 2) ?? "null";
}
