"""A minimal Reins hook in Python, for `reins-bench hook` (side by side with
`reins hook`): read the agent's event from stdin, send one request line to
the daemon's socket, read one response line, print nothing, exit 0.

Usage: python3 hook.py REQUEST_FILE < event.json
REQUEST_FILE holds the exact line `reins hook` sends (captured by the bench).
The socket is $XDG_RUNTIME_DIR/reins/reins.sock, as for `reins hook`.
"""

import json
import os
import socket
import sys

json.loads(sys.stdin.buffer.read())  # what a real hook would do with the event
with open(sys.argv[1], "rb") as f:
    line = f.read()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.path.join(os.environ["XDG_RUNTIME_DIR"], "reins", "reins.sock"))
s.sendall(line)
got = b""
while b"\n" not in got:
    chunk = s.recv(65536)
    if not chunk:
        sys.exit(1)
    got += chunk
s.close()
sys.exit(0)
