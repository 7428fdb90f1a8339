#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vm/qmp.py - minimal QMP client (standard library only).

usage: vm/qmp.py SOCKET COMMAND [JSON-ARGS]

Connects to QEMU's QMP unix socket, negotiates capabilities, runs COMMAND
with the JSON object JSON-ARGS as its arguments and prints the reply as JSON.
Exit status: 0 on a "return" reply, 1 on an "error" reply, 2 on usage or
connection errors. Asynchronous events received meanwhile go to stderr.

examples:
  vm/qmp.py /tmp/vdf-vm/RUN/qmp.sock query-status
  vm/qmp.py RUN/qmp.sock device_add '{"driver":"nvme","bus":"rp1","id":"n1","serial":"x","drive":"d1"}'
  vm/qmp.py RUN/qmp.sock screendump '{"filename":"/tmp/s.png","format":"png"}'
"""

import json
import socket
import sys

TIMEOUT_S = 30


class QmpError(Exception):
    pass


class Qmp:
    def __init__(self, path, timeout=TIMEOUT_S):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.rfile = self.sock.makefile('r', encoding='utf-8')
        greeting = self._read()
        if 'QMP' not in greeting:
            raise QmpError('no QMP greeting: %r' % greeting)
        self.command('qmp_capabilities')

    def _read(self):
        line = self.rfile.readline()
        if not line:
            raise QmpError('connection closed by QEMU')
        return json.loads(line)

    def command(self, name, args=None):
        """Send one command; return the whole reply ({"return": ...} or {"error": ...})."""
        msg = {'execute': name}
        if args:
            msg['arguments'] = args
        self.sock.sendall((json.dumps(msg) + '\n').encode('utf-8'))
        while True:
            reply = self._read()
            if 'event' in reply:
                print(json.dumps(reply), file=sys.stderr)
                continue
            if 'return' in reply or 'error' in reply:
                return reply

    def close(self):
        self.rfile.close()
        self.sock.close()


def main(argv):
    if len(argv) not in (3, 4) or argv[1] in ('-h', '--help'):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    args = None
    if len(argv) == 4:
        try:
            args = json.loads(argv[3])
        except json.JSONDecodeError as e:
            print('qmp.py: JSON-ARGS: %s' % e, file=sys.stderr)
            return 2
        if not isinstance(args, dict):
            print('qmp.py: JSON-ARGS must be a JSON object', file=sys.stderr)
            return 2
    try:
        qmp = Qmp(argv[1])
        try:
            reply = qmp.command(argv[2], args)
        finally:
            qmp.close()
    except (OSError, QmpError, ValueError) as e:
        print('qmp.py: %s: %s' % (argv[1], e), file=sys.stderr)
        return 2
    print(json.dumps(reply))
    return 1 if 'error' in reply else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
