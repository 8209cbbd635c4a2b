// Produces one record to the Kafka broker TBI_SEND_BROKER on topic TBI_SEND_TOPIC.
import { Producer, stringSerializers } from '@platformatic/kafka';

const producer = new Producer({
  clientId: 'rehearsal-sender',
  bootstrapBrokers: [process.env.TBI_SEND_BROKER],
  serializers: stringSerializers,
  autocreateTopics: true,
});
try {
  await producer.send({ messages: [{ topic: process.env.TBI_SEND_TOPIC, value: process.argv[2] }] });
} finally {
  await producer.close();
}
