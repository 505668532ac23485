import { isTraceCarrier, outgoingTraceContext, traceCarrierOfHeaders } from './trace-context';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('trace context', () => {
  it('accepts a message without trace context, or with a well-formed one', () => {
    expect(isTraceCarrier({})).toBe(true);
    expect(isTraceCarrier({ traceparent: TRACEPARENT, tracestate: 'acme=1' })).toBe(true);
    // A later version may append fields.
    expect(isTraceCarrier({ traceparent: `01-${TRACEPARENT.slice(3)}-extra` })).toBe(true);
  });

  it.each([
    ['a malformed traceparent', { traceparent: '00-xyz' }],
    ['a traceparent that is not a string', { traceparent: 42 }],
    ['an oversized traceparent', { traceparent: `${TRACEPARENT}-${'a'.repeat(200)}` }],
    ['an oversized tracestate', { traceparent: TRACEPARENT, tracestate: 'a'.repeat(513) }],
  ])('refuses %s', (_case, carrier) => {
    expect(isTraceCarrier(carrier)).toBe(false);
  });

  it("keeps a client's well-formed headers and drops the rest, so no later hop fails on them", () => {
    expect(traceCarrierOfHeaders({ traceparent: TRACEPARENT, tracestate: 'a=1' })).toEqual({
      traceparent: TRACEPARENT,
      tracestate: 'a=1',
    });
    expect(traceCarrierOfHeaders({ traceparent: 'garbage', tracestate: 'a=1' })).toEqual({});
    expect(traceCarrierOfHeaders({ traceparent: [TRACEPARENT, TRACEPARENT] })).toEqual({});
    expect(
      traceCarrierOfHeaders({ traceparent: TRACEPARENT, tracestate: 'a'.repeat(600) }),
    ).toEqual({ traceparent: TRACEPARENT });
  });

  it('passes the incoming context on unchanged while tracing is off', () => {
    expect(outgoingTraceContext({ traceparent: TRACEPARENT, tracestate: 'a=1' })).toEqual({
      traceparent: TRACEPARENT,
      tracestate: 'a=1',
    });
    expect(outgoingTraceContext(undefined)).toEqual({});
  });
});
