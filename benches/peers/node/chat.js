// Peer chat server for the load benchmark: the `ws` package's broadcast
// example ("Server broadcast", including the sender), with the chat-server's
// command line, log lines and protocol. See ../README.md.
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(arg('--ws-port', '12345')) });
let next = 0;

function broadcast(text) {
  wss.clients.forEach((client) => {
    if (client.readyState === WebSocket.OPEN) client.send(text);
  });
}

wss.on('connection', (ws, req) => {
  req.socket.setNoDelay(true);
  next += 1;
  const name = `user-${next}`;
  ws.send(` .... you are ${name}.`);
  wss.clients.forEach((client) => {
    if (client !== ws && client.readyState === WebSocket.OPEN) client.send(` .... ${name} has joined.`);
  });
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    if (!isBinary) broadcast(`${name}: ${data}`);
  });
  ws.on('close', () => broadcast(` .... ${name} has left.`));
});

wss.on('listening', () => {
  const { address, port } = wss.address();
  console.error(`INFO chat at ws://${address}:${port}/ (node ${process.version}, ws)`);
});

process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
