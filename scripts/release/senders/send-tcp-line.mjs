// Sends one JSON line to the template connector's TCP port TBI_SEND_PORT and prints its answer.
import net from 'node:net';

const socket = net.connect(Number(process.env.TBI_SEND_PORT), '127.0.0.1');
socket.setEncoding('utf8');
socket.write(`${process.argv[2]}\n`);
let answer = '';
for await (const chunk of socket) {
  answer += chunk;
  if (answer.includes('\n')) break;
}
socket.end();
process.stdout.write(answer);
if (!answer.startsWith('ok')) process.exitCode = 1;
