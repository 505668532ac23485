import {
  brokerPermissions,
  brokerServicesOf,
  renderBrokerAuthorization,
} from './broker-permissions';

const ROUTES = [{ subject: 'events.payment.completed', producer: 'payment', consumers: ['order'] }];

describe(brokerPermissions.name, () => {
  it('lets a producer publish only its own subjects and manage only its own stream', () => {
    expect(brokerPermissions('payment', ROUTES)).toEqual({
      publish: {
        allow: [
          '$JS.API.INFO',
          '$JS.API.STREAM.CREATE.EVENTS_PAYMENT',
          '$JS.API.STREAM.INFO.EVENTS_PAYMENT',
          '$JS.API.STREAM.UPDATE.EVENTS_PAYMENT',
          'events.payment.>',
        ],
      },
      subscribe: { allow: ['_INBOX.payment.>'] },
    });
  });

  it('lets a consumer use only its own durable consumer and dead letters, and publish no event', () => {
    const { publish, subscribe } = brokerPermissions('order', ROUTES);
    expect(publish.allow.filter((subject) => subject.startsWith('events.'))).toEqual([]);
    expect(publish.allow).toContain(
      '$JS.API.CONSUMER.MSG.NEXT.EVENTS_PAYMENT.order__payment_completed',
    );
    expect(publish.allow).toContain('$JS.ACK.EVENTS_PAYMENT.order__payment_completed.>');
    expect(publish.allow).toContain('deadletter.order.events.payment.completed');
    expect(publish.allow.some((subject) => subject.includes('STREAM.MSG.GET'))).toBe(false);
    expect(publish.allow.filter((subject) => subject.includes('CONSUMER.CREATE'))).toEqual([
      '$JS.API.CONSUMER.CREATE.EVENTS_PAYMENT.order__payment_completed.events.payment.completed',
    ]);
    expect(subscribe.allow).toEqual(['_INBOX.order.>']);
  });

  it('refuses a route whose subject names another producer', () => {
    expect(() =>
      brokerPermissions('order', [
        { subject: 'events.payment.completed', producer: 'order', consumers: [] },
      ]),
    ).toThrow('events.payment.completed must be published by payment');
  });

  it('gives no user to a service that takes no part in events', () => {
    expect(brokerServicesOf(ROUTES)).toEqual(['order', 'payment']);
    expect(() => brokerPermissions('gateway', ROUTES)).toThrow('neither publishes nor consumes');
    expect(renderBrokerAuthorization('acme.test', ROUTES)).not.toContain('gateway');
  });
});
