// A strict reader of the Prometheus text exposition format 0.0.4 (promtool is not available
// here): HELP/TYPE at most once per family and before its samples, valid metric and label
// names, quoted and escaped label values, numeric values, no duplicate series, families not
// interleaved, no negative counter, a final newline. Throws on the first violation.

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseLabels(text, at) {
  const labels = {};
  let i = 1; // after "{"
  for (;;) {
    if (text[i] === "}") return [labels, text.slice(i + 1)];
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`${at}: a label without =`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name) || name.startsWith("__")) throw new Error(`${at}: label name ${name}`);
    if (text[eq + 1] !== '"') throw new Error(`${at}: unquoted label value`);
    let value = "";
    let j = eq + 2;
    for (;; j++) {
      const c = text[j];
      if (c === undefined) throw new Error(`${at}: unterminated label value`);
      if (c === '"') break;
      if (c === "\\") {
        const n = text[++j];
        if (n === "\\") value += "\\";
        else if (n === '"') value += '"';
        else if (n === "n") value += "\n";
        else throw new Error(`${at}: bad escape \\${n}`);
      } else value += c;
    }
    if (name in labels) throw new Error(`${at}: label ${name} twice`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`${at}: labels not separated by commas`);
  }
}

function parseValue(text, at) {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${at}: value ${text}`);
  return Number(text);
}

/** Parses and checks an exposition: `{ types: Map, samples: [{ name, labels, value }] }`. */
export function parseExposition(text) {
  if (text.length && !text.endsWith("\n")) throw new Error("no final newline");
  const types = new Map();
  const helps = new Set();
  const samples = [];
  const series = new Set();
  const sampled = new Set();
  const finished = new Set();
  let current = null;
  const enter = (family, at) => {
    if (current === family) return;
    if (current !== null) finished.add(current);
    if (finished.has(family)) throw new Error(`${at}: family ${family} interleaved`);
    current = family;
  };
  text.split("\n").slice(0, -1).forEach((line, n) => {
    const at = `line ${n + 1} (${JSON.stringify(line)})`;
    if (line === "") return;
    if (line.startsWith("#")) {
      const words = line.slice(1).trimStart().split(" ");
      if (words[0] === "HELP") {
        if (!METRIC.test(words[1] ?? "") || helps.has(words[1])) throw new Error(`${at}: HELP`);
        helps.add(words[1]);
        enter(words[1], at);
      } else if (words[0] === "TYPE") {
        if (words.length !== 3 || !METRIC.test(words[1]) || !TYPES.has(words[2])) throw new Error(`${at}: TYPE`);
        if (types.has(words[1]) || sampled.has(words[1])) throw new Error(`${at}: TYPE repeated or late`);
        types.set(words[1], words[2]);
        enter(words[1], at);
      }
      return;
    }
    const m = /^([^{ ]+)/.exec(line);
    if (!m || !METRIC.test(m[1])) throw new Error(`${at}: metric name`);
    const name = m[1];
    let rest = line.slice(name.length);
    let labels = {};
    if (rest.startsWith("{")) [labels, rest] = parseLabels(rest, at);
    const parts = rest.split(" ");
    if (parts[0] !== "" || parts.length < 2 || parts.length > 3) throw new Error(`${at}: expected " value [timestamp]"`);
    const value = parseValue(parts[1], at);
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) throw new Error(`${at}: timestamp`);
    const base = ["_sum", "_count", "_bucket"].map((s) => name.endsWith(s) && name.slice(0, -s.length)).find((b) => b && types.has(b));
    const family = types.has(name) ? name : base || name;
    if (types.get(family) === "counter" && value < 0) throw new Error(`${at}: negative counter`);
    enter(family, at);
    sampled.add(family);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (series.has(key)) throw new Error(`${at}: duplicate series`);
    series.add(key);
    samples.push({ name, labels, value });
  });
  return {
    types,
    samples,
    /** The value of the sample of `name` whose labels include `labels` (undefined if none). */
    get(name, labels = {}) {
      const s = samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      return s?.value;
    },
  };
}
