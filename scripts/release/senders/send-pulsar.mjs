// Produces one message over Pulsar's WebSocket API at TBI_SEND_WEB_URL to topic TBI_SEND_TOPIC
// (persistent://public/default/<name>) and waits for the broker's ack.
import WebSocket from 'ws';

const url = `${process.env.TBI_SEND_WEB_URL.replace(/^http/, 'ws')}/ws/v2/producer/persistent/public/default/${process.env.TBI_SEND_TOPIC}`;
const ws = new WebSocket(url);
await new Promise((resolve, reject) => {
  ws.once('error', reject);
  ws.once('open', () => ws.send(JSON.stringify({ payload: Buffer.from(process.argv[2]).toString('base64') })));
  ws.once('message', (data) => {
    const answer = JSON.parse(String(data));
    if (answer.result === 'ok') resolve();
    else reject(new Error(`pulsar refused the message: ${String(data)}`));
  });
});
ws.close();
