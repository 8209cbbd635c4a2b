// Sends one persistent message to queue TBI_SEND_QUEUE at the AMQP URL TBI_SEND_URL, confirmed.
import amqp from 'amqplib';

const connection = await amqp.connect(process.env.TBI_SEND_URL);
try {
  const channel = await connection.createConfirmChannel();
  await channel.checkQueue(process.env.TBI_SEND_QUEUE);
  channel.sendToQueue(process.env.TBI_SEND_QUEUE, Buffer.from(process.argv[2]), { persistent: true, contentType: 'application/json' });
  await channel.waitForConfirms();
} finally {
  await connection.close();
}
