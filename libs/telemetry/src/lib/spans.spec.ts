import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { startInMemoryTracing } from './testing/in-memory-tracing';
import { activeTraceId, annotateActiveSpan, isTracingEnabled, traced } from './spans';
import { TracedGuard } from './traced-guard';
import { contextOf, outgoingTraceContext } from './trace-context';

describe('spans', () => {
  it('run the work untraced, at the cost of one branch, while tracing is off', async () => {
    expect(isTracingEnabled()).toBe(false);
    expect(traced('work', (span) => span)).toBeUndefined();
    await expect(traced('work', () => Promise.resolve(42))).resolves.toBe(42);
    expect(activeTraceId()).toBeUndefined();
  });

  describe('with tracing on', () => {
    let tracing: ReturnType<typeof startInMemoryTracing>;
    beforeAll(() => (tracing = startInMemoryTracing()));
    afterEach(() => tracing.reset());
    afterAll(() => tracing.stop());

    it('end when the work returns, or when its promise settles, nested under the active span', async () => {
      await traced('outer', async () => {
        traced('inner', () => annotateActiveSpan({ 'acme.test': 'yes' }));
        await new Promise((resolve) => setTimeout(resolve, 5));
        traced('after-await', () => undefined);
      });
      const [inner, afterAwait, outer] = tracing.spans();
      expect([inner.name, afterAwait.name, outer.name]).toEqual(['inner', 'after-await', 'outer']);
      expect(inner.attributes['acme.test']).toBe('yes');
      for (const child of [inner, afterAwait]) {
        expect(child.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
        expect(child.spanContext().traceId).toBe(outer.spanContext().traceId);
      }
    });

    it('mark a throw or a rejection as an error, with its message only, and pass it on', async () => {
      expect(() =>
        traced('throws', () => {
          throw new Error('jwt expired');
        }),
      ).toThrow('jwt expired');
      await expect(traced('rejects', () => Promise.reject(new Error('refused')))).rejects.toThrow(
        'refused',
      );
      expect(tracing.spans().map((span) => [span.name, span.status])).toEqual([
        ['throws', { code: SpanStatusCode.ERROR, message: 'jwt expired' }],
        ['rejects', { code: SpanStatusCode.ERROR, message: 'refused' }],
      ]);
    });

    it('give the active trace id, for audit lines', () => {
      traced('work', (span) => expect(activeTraceId()).toBe(span?.spanContext().traceId));
    });

    it('carry the active span in a message, and continue it on the other side', () => {
      const carrier = traced('send', () => outgoingTraceContext({ traceparent: 'ignored' }), {
        kind: SpanKind.CLIENT,
      });
      traced('receive', () => undefined, { kind: SpanKind.SERVER, parent: contextOf(carrier) });
      const [send, receive] = tracing.spans();
      expect(carrier.traceparent).toBe(
        `00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`,
      );
      expect(receive.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(receive.spanContext().traceId).toBe(send.spanContext().traceId);
    });

    it('record each guard decision: allow, deny by false, deny by a throw', async () => {
      @TracedGuard()
      class ExampleGuard {
        canActivate(decision: 'allow' | 'false' | 'throw' | 'async'): boolean | Promise<boolean> {
          if (decision === 'throw') throw new Error('requires role admin');
          if (decision === 'async') return Promise.resolve(true);
          return decision === 'allow';
        }
      }
      const guard = new ExampleGuard();
      expect(guard.canActivate('allow')).toBe(true);
      expect(guard.canActivate('false')).toBe(false);
      expect(() => guard.canActivate('throw')).toThrow('requires role admin');
      await expect(guard.canActivate('async')).resolves.toBe(true);
      expect(
        tracing
          .spans()
          .map((span) => [span.name, span.attributes['acme.guard.decision'], span.status.code]),
      ).toEqual([
        ['guard ExampleGuard', 'allow', SpanStatusCode.UNSET],
        ['guard ExampleGuard', 'deny', SpanStatusCode.UNSET],
        ['guard ExampleGuard', 'deny', SpanStatusCode.ERROR],
        ['guard ExampleGuard', 'allow', SpanStatusCode.UNSET],
      ]);
    });
  });
});
