import { ConfigError } from '@tbi/plugin-api';
import type { ConsumerConnection, ProducerConnection, PulsarDriver, ReceivedMessage } from './types.js';

// The part of `pulsar-client`'s published declarations (index.d.ts, 1.x) this driver uses,
// written out so the package builds without it: the client needs a native libpulsar that cannot
// be installed everywhere (not on the machine this was written on), so it is not a dependency.
interface NativeMessageId {
  serialize(): Buffer;
}
interface NativeMessage {
  getTopicName(): string;
  getData(): Buffer;
  getMessageId(): NativeMessageId;
  getPartitionKey(): string;
  getProperties(): Record<string, string>;
  getPublishTimestamp(): number;
  getEventTimestamp(): number;
  getRedeliveryCount(): number;
}
interface NativeConsumer {
  acknowledgeId(id: NativeMessageId): Promise<null>;
  negativeAcknowledgeId(id: NativeMessageId): void;
  close(): Promise<null>;
}
interface NativeProducer {
  send(message: { data: Buffer; partitionKey?: string; properties?: Record<string, string> }): Promise<NativeMessageId>;
  close(): Promise<null>;
}
interface NativeClient {
  subscribe(config: Record<string, unknown>): Promise<NativeConsumer>;
  createProducer(config: Record<string, unknown>): Promise<NativeProducer>;
  close(): Promise<null>;
}
interface NativeModule {
  Client: new (config: Record<string, unknown>) => NativeClient;
  AuthenticationToken: new (params: { token: string }) => unknown;
  MessageId: { deserialize(data: Buffer): NativeMessageId };
}

/**
 * The driver on the official `pulsar-client` (binary protocol, batching, partitioned topics,
 * patterns), loaded with a dynamic import only when this driver is chosen. Thin on purpose: the
 * same interface as the WebSocket driver. Untested here: the package does not install on this
 * machine (see the README).
 */
export function nativeDriver(serviceUrl: string): PulsarDriver {
  let loaded: Promise<NativeModule> | undefined;
  const load = () =>
    (loaded ??= import(/* optional */ 'pulsar-client' as string).then(
      (m: { default?: NativeModule } & NativeModule) => m.default ?? m,
      (error: unknown) => {
        throw new ConfigError({
          path: 'config.driver',
          expected: 'the pulsar-client package installed next to @tbi/plugin-pulsar (npm i pulsar-client), or driver: websocket',
          received: `native (${(error as Error).message})`,
          cause: error,
        });
      },
    ));
  // TLS options are not mapped to the native client yet (see the README).
  const client = async (token: string | undefined, _tls: { ca?: Buffer } | undefined) => {
    const pulsar = await load();
    return {
      pulsar,
      client: new pulsar.Client({
        serviceUrl,
        ...(token ? { authentication: new pulsar.AuthenticationToken({ token }) } : {}),
        operationTimeoutSeconds: 30,
      }),
    };
  };
  return {
    name: 'native',
    async consumer(options) {
      const { pulsar, client: c } = await client(options.token, options.tls);
      const consumer = await c.subscribe({
        topic: options.topic,
        subscription: options.subscription,
        subscriptionType: options.subscriptionType === 'Key_Shared' ? 'KeyShared' : options.subscriptionType,
        subscriptionInitialPosition: options.initialPosition,
        receiverQueueSize: options.receiverQueueSize,
        nAckRedeliverTimeoutMs: options.negativeAckRedeliveryDelayMs,
        ...(options.deadLetter
          ? { deadLetterPolicy: { maxRedeliverCount: options.deadLetter.maxRedeliverCount, deadLetterTopic: options.deadLetter.topic } }
          : {}),
        listener: (m: NativeMessage) => {
          const message: ReceivedMessage = {
            messageId: m.getMessageId().serialize().toString('base64'),
            topic: m.getTopicName(),
            payload: m.getData(),
            properties: m.getProperties(),
            publishTime: m.getPublishTimestamp(),
            redeliveryCount: m.getRedeliveryCount(),
          };
          const key = m.getPartitionKey();
          if (key) message.key = key;
          if (m.getEventTimestamp() > 0) message.eventTime = m.getEventTimestamp();
          options.onMessage(message);
        },
      });
      const id = (s: string) => pulsar.MessageId.deserialize(Buffer.from(s, 'base64'));
      return {
        ack: (messageId) => void consumer.acknowledgeId(id(messageId)).catch(() => {}),
        negativeAck: (messageId) => consumer.negativeAcknowledgeId(id(messageId)),
        close: async () => {
          await consumer.close().catch(() => {});
          await c.close().catch(() => {});
        },
      } satisfies ConsumerConnection;
    },
    async producer(options) {
      const { client: c } = await client(options.token, options.tls);
      const producer = await c.createProducer({ topic: options.topic, sendTimeoutMs: 30_000 });
      return {
        async send(message) {
          const id = await producer.send({
            data: message.payload,
            ...(message.key ? { partitionKey: message.key } : {}),
            ...(message.properties ? { properties: message.properties } : {}),
          });
          return id.serialize().toString('base64');
        },
        close: async () => {
          await producer.close().catch(() => {});
          await c.close().catch(() => {});
        },
      } satisfies ProducerConnection;
    },
  };
}
