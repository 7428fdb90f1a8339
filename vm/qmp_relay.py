#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vm/qmp_relay.py - QMP for the guest script (started by vm/run --qmp).

usage: vm/qmp_relay.py QMP_SOCKET RUNDIR CHANNEL

The guest writes one JSON request per line to the virtio serial port named
"vdf.qmp" ({"execute": NAME, "arguments": {...}}); QEMU hands the bytes to the
FIFO CHANNEL.out, this relay runs the command on QMP_SOCKET (a fresh session
per request, vm/qmp.py) and writes the reply as one JSON line to CHANNEL.in,
which the guest reads from the same port. tests/vm/lib/hostqmp.py is the
guest's side.

Host paths are the relay's business, never the guest's: a "filename"
argument (screendump) must be a plain file name and is placed in RUNDIR,
which the guest sees as $VDF_HOST_OUT (/run/vdf-host). Anything malformed is
answered with {"error": {"class": "RelayError", "desc": ...}}.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qmp import Qmp, QmpError  # noqa: E402

MAX_LINE = 65536


def error(desc):
    return {'error': {'class': 'RelayError', 'desc': desc}}


def handle(line, qmp_path, rundir):
    try:
        req = json.loads(line)
    except ValueError as e:
        return error('not JSON: %s' % e)
    if not isinstance(req, dict) or not isinstance(req.get('execute'), str):
        return error('want {"execute": NAME, "arguments": {...}}')
    args = req.get('arguments') or {}
    if not isinstance(args, dict):
        return error('"arguments" must be an object')
    if 'filename' in args:
        name = args['filename']
        if not isinstance(name, str) or not name or '/' in name or name.startswith('.'):
            return error('"filename" must be a plain file name (it goes to the run directory)')
        args = dict(args, filename=os.path.join(rundir, name))
    try:
        qmp = Qmp(qmp_path)
        try:
            return qmp.command(req['execute'], args)
        finally:
            qmp.close()
    except (OSError, QmpError, ValueError) as e:
        return error('QMP: %s' % e)


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    qmp_path, rundir, channel = argv[1:]
    with open(channel + '.out', 'rb', buffering=0) as rx, open(channel + '.in', 'wb',
                                                                  buffering=0) as tx:
        buf = b''
        while True:
            chunk = rx.read(4096)
            if not chunk:
                return 0
            buf += chunk
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                if not line.strip():
                    continue
                reply = handle(line.decode('utf-8', 'replace'), qmp_path, rundir)
                tx.write((json.dumps(reply) + '\n').encode('utf-8'))
            if len(buf) > MAX_LINE:
                tx.write((json.dumps(error('request line too long')) + '\n').encode('utf-8'))
                buf = b''


if __name__ == '__main__':
    sys.exit(main(sys.argv))
