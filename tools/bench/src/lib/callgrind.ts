import { functionOf } from './profile-diff';

/** What one function cost in a callgrind profile: instructions executed (Ir). */
export interface FunctionCost {
  /** In the function's own code. */
  self: number;
  /** In it and in everything it called. */
  inclusive: number;
}

/** A JIT code range from node's `--perf-basic-prof` map (`/tmp/perf-<pid>.map`). */
interface CodeRange {
  start: number;
  end: number;
  name: string;
}

/**
 * Names JIT code by the map node writes with `--perf-basic-prof`: callgrind sees V8's
 * generated code as bare addresses (`0x000000000d244f00`).
 */
export class PerfMap {
  private readonly ranges: CodeRange[];

  constructor(text: string) {
    this.ranges = text
      .split('\n')
      .map((line) => /^([0-9a-f]+) ([0-9a-f]+) (.+)$/i.exec(line))
      .filter((match) => match !== null)
      .map(([, start, size, name]) => ({
        start: parseInt(start, 16),
        end: parseInt(start, 16) + parseInt(size, 16),
        name: shortCodeName(name),
      }))
      .sort((a, b) => a.start - b.start);
  }

  /** The code at `address`, or undefined outside of every range. */
  nameAt(address: number): string | undefined {
    let [low, high] = [0, this.ranges.length - 1];
    while (low <= high) {
      const middle = (low + high) >> 1;
      const range = this.ranges[middle];
      if (address < range.start) high = middle - 1;
      else if (address >= range.end) low = middle + 1;
      else return range.name;
    }
    return undefined;
  }
}

/**
 * A perf map's name in the profile report's terms ({@link functionOf}): `JS:*canActivate
 * /w/dist/apps/order/main.js:12:3` is `app canActivate:12`, a package's function is named
 * under its package, node's under its module; a regular expression is `RegExp:<source>`
 * (node 24's V8 writes `RegExp.> src: '<source>' flags: 'i'`); other code that is not
 * JavaScript (`Builtin:...`) keeps its own name. Node 24 marks context-specialised code with
 * a `'` after the tier (`JS:*'emit`).
 */
export function shortCodeName(name: string): string {
  const regExp = /^RegExp\.> src: '(.*)' flags: '[a-z]*'$/.exec(name);
  if (regExp) return `RegExp:${regExp[1]}`;
  const js = /^(?:JS|LazyCompile|Function|Script):[*~^+]?'?(.*?)(?: (\S+):(\d+):\d+)?$/.exec(name);
  if (!js) return name.replace(/^Builtin:/, '');
  const [, functionName, url = '', line] = js;
  return functionOf({ functionName, url, lineNumber: line === undefined ? -1 : Number(line) - 1 });
}

/**
 * Self and inclusive instructions per function of a callgrind output file (events `Ir`, the
 * tool's default), a function's recursion levels (`'2`) counted as one. Unnamed code is named
 * by `perfMap` where it covers the address; the rest is `(unnamed code)`.
 */
export function functionCosts(text: string, perfMap?: PerfMap): Map<string, FunctionCost> {
  const names = new Map<string, string>();
  const nameOf = (spec: string): string => {
    const compressed = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    let name = spec;
    if (compressed) {
      if (compressed[2] !== undefined) names.set(compressed[1], compressed[2]);
      name = names.get(compressed[1]) ?? spec;
    }
    name = name.replace(/'\d+$/, '');
    const address = /^0x([0-9a-f]+)$/.exec(name);
    if (!address) return name;
    return perfMap?.nameAt(parseInt(address[1], 16)) ?? '(unnamed code)';
  };
  const costs = new Map<string, FunctionCost>();
  const costOf = (name: string): FunctionCost => {
    let cost = costs.get(name);
    if (!cost) costs.set(name, (cost = { self: 0, inclusive: 0 }));
    return cost;
  };
  let current: FunctionCost | undefined;
  let nextIsCall = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('fn=')) {
      current = costOf(nameOf(line.slice(3)));
    } else if (line.startsWith('cfn=')) {
      nameOf(line.slice(4)); // defines a compressed name for later lines
    } else if (line.startsWith('calls=')) {
      nextIsCall = true;
    } else if (current && /^[\d+*-]/.test(line)) {
      const fields = line.trim().split(/\s+/);
      const instructions = fields.length > 1 ? Number(fields[fields.length - 1]) : 0;
      current.inclusive += instructions;
      if (!nextIsCall) current.self += instructions;
      nextIsCall = false;
    }
  }
  return costs;
}

/** The instructions a callgrind output file counted in all (its `summary:` or `totals:`). */
export function totalInstructions(text: string): number {
  const total = /^(?:summary|totals): (\d+)/m.exec(text);
  if (!total) throw new Error('not a callgrind output file: no summary or totals line');
  return Number(total[1]);
}
