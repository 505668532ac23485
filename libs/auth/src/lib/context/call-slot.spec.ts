import { CallSlot } from './call-slot';

describe('CallSlot', () => {
  it('keeps a value per call object', () => {
    const slot = new CallSlot<string>('test');
    const [first, second] = [{}, {}];
    slot.set(first, 'a');
    slot.set(second, 'b');
    expect([slot.get(first), slot.get(second)]).toEqual(['a', 'b']);
  });

  it('has nothing for a call it was never given', () => {
    expect(new CallSlot<string>('test').get({})).toBeUndefined();
  });

  it('never reads another slot, nor a property of the call, even of the same description', () => {
    const [principal, resource] = [new CallSlot<string>('same'), new CallSlot<string>('same')];
    const call = { same: 'property of the call' };
    principal.set(call, 'principal');
    expect(resource.get(call)).toBeUndefined();
    expect(principal.get(call)).toBe('principal');
  });

  it('leaves what the call serialises to unchanged', () => {
    const call = { id: 1 };
    new CallSlot<string>('test').set(call, 'secret');
    expect(JSON.stringify(call)).toBe('{"id":1}');
    expect(Object.keys(call)).toEqual(['id']);
  });
});
