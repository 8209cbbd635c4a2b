// Publishes one QoS 1 message to the MQTT broker at TBI_SEND_PORT on topic TBI_SEND_TOPIC.
import mqtt from 'mqtt';

const client = await mqtt.connectAsync({ host: '127.0.0.1', port: Number(process.env.TBI_SEND_PORT), clientId: `rehearsal-sender-${process.pid}` });
await client.publishAsync(process.env.TBI_SEND_TOPIC, process.argv[2], { qos: 1 });
await client.endAsync();
