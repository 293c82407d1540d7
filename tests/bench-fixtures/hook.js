// A minimal Reins hook in Node.js, for `reins-bench hook` (side by side with
// `reins hook`): read the agent's event from stdin, send one request line to
// the daemon's socket, read one response line, print nothing, exit 0.
//
// Usage: node hook.js REQUEST_FILE < event.json
// REQUEST_FILE holds the exact line `reins hook` sends (captured by the bench).
// The socket is $XDG_RUNTIME_DIR/reins/reins.sock, as for `reins hook`.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');

JSON.parse(fs.readFileSync(0, 'utf8')); // what a real hook would do with the event
const line = fs.readFileSync(process.argv[2]);
const sock = net.createConnection(path.join(process.env.XDG_RUNTIME_DIR, 'reins', 'reins.sock'));
let got = '';
sock.on('connect', () => sock.write(line));
sock.on('data', (d) => {
  got += d;
  if (got.includes('\n')) {
    sock.destroy();
    process.exit(0);
  }
});
sock.on('end', () => process.exit(1));
sock.on('error', () => process.exit(1));
