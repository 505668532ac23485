import { functionCosts, PerfMap, shortCodeName, totalInstructions } from './callgrind';

// A caller, a JIT function named by the perf map, and a recursive callee, with compressed names.
const PROFILE = `# callgrind format
version: 1
positions: line
events: Ir
summary: 1650

ob=(1) /usr/bin/node
fl=(1) ???
fn=(1) main
0 100
cfi=(1)
cfn=(2) 0x0000000000001010
calls=2 0
0 1500
+2 50

ob=(2) ???
fn=(2)
0 300
cob=(1)
cfn=(3) Builtins_KeyedLoadIC_Megamorphic
calls=4 0
0 1000
cfn=(4) Builtins_KeyedLoadIC_Megamorphic'2
calls=1 0
0 200

ob=(1)
fn=(3)
* 1000
fn=(4)
-1 200
`;

const PERF_MAP = [
  '1000 40 JS:*canActivate /w/dist/apps/order/main.js:12:3',
  '2000 10 JS:~verify /w/node_modules/@acme/x/lib/verify.js:1:1',
].join('\n');

describe('functionCosts', () => {
  const costs = functionCosts(PROFILE, new PerfMap(PERF_MAP));

  it('counts a function and what it calls, each call once', () => {
    expect(costs.get('main')).toEqual({ self: 150, inclusive: 1650 });
  });

  it('names JIT code from the perf map', () => {
    expect(costs.get('app canActivate:12')).toEqual({ self: 300, inclusive: 1500 });
  });

  it('counts the recursion levels of a function as the function', () => {
    expect(costs.get('Builtins_KeyedLoadIC_Megamorphic')).toEqual({
      self: 1200,
      inclusive: 1200,
    });
  });

  it('leaves code outside the perf map unnamed', () => {
    const unmapped = functionCosts(PROFILE, new PerfMap(''));
    expect(unmapped.get('(unnamed code)')).toEqual({ self: 300, inclusive: 1500 });
  });
});

describe('PerfMap', () => {
  const map = new PerfMap(PERF_MAP);

  it.each([
    [0x1000, 'app canActivate:12'],
    [0x103f, 'app canActivate:12'],
    [0x1040, undefined],
    [0x2005, '@acme/x verify'],
    [0xfff, undefined],
  ])('names %i as %s', (address, name) => {
    expect(map.nameAt(address)).toBe(name);
  });
});

describe('shortCodeName', () => {
  it.each([
    [
      'JS:*promiseInitHook node:internal/async_hooks:320:25',
      'node:internal/async_hooks promiseInitHook',
    ],
    ['JS:~get /w/node_modules/fastify/lib/request.js:114:11', 'fastify get'],
    ['JS:^spendTokens /w/dist/apps/gateway/main.js:6938:9', 'app spendTokens:6938'],
    ['JS:* /w/node_modules/@nestjs/core/router.js:5:1', '@nestjs/core (anonymous)'],
    ['RegExp:^Bearer (\\S+)$', 'RegExp:^Bearer (\\S+)$'],
    // Node 24's V8.
    ["RegExp.> src: '^Bearer (\\S+)$' flags: 'i'", 'RegExp:^Bearer (\\S+)$'],
    ["JS:+'emit node:events:471:44", 'node:events emit'],
    ['Builtin:KeyedLoadIC', 'KeyedLoadIC'],
  ])('shortens %s to %s', (name, short) => {
    expect(shortCodeName(name)).toBe(short);
  });
});

describe('totalInstructions', () => {
  it('reads the summary line', () => {
    expect(totalInstructions(PROFILE)).toBe(1650);
  });

  it('refuses a file that is not callgrind output', () => {
    expect(() => totalInstructions('hello')).toThrow('not a callgrind output file');
  });
});
