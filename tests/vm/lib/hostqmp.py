#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""QMP from inside the guest (vm/run --qmp; host side: vm/qmp_relay.py).

usage: python3 tests/vm/lib/hostqmp.py COMMAND [JSON-ARGS]
       python3 tests/vm/lib/hostqmp.py screendump NAME [png|ppm] [DEVICE-ID]

Prints the reply as one JSON line; exit status 0 for a "return", 1 for an
"error", 2 if the channel is missing or silent. `screendump NAME` saves the
screen on the host as RUNDIR/NAME, which the guest reads as
$VDF_HOST_OUT/NAME (/run/vdf-host/NAME).
"""
import glob
import json
import os
import select
import sys

TIMEOUT_S = 60


def port():
    for p in glob.glob('/sys/class/virtio-ports/*/name'):
        with open(p) as f:
            if f.read().strip() == 'vdf.qmp':
                return '/dev/' + os.path.basename(os.path.dirname(p))
    return None


def request(execute, arguments=None):
    dev = port()
    if not dev:
        raise OSError('no virtio port "vdf.qmp" (run the guest with vm/run --qmp)')
    fd = os.open(dev, os.O_RDWR)
    try:
        msg = {'execute': execute}
        if arguments:
            msg['arguments'] = arguments
        os.write(fd, (json.dumps(msg) + '\n').encode())
        buf = b''
        while b'\n' not in buf:
            r, _, _ = select.select([fd], [], [], TIMEOUT_S)
            if not r:
                raise OSError('no answer from the host in %d s' % TIMEOUT_S)
            chunk = os.read(fd, 65536)
            if not chunk:
                raise OSError('the channel closed')
            buf += chunk
        return json.loads(buf.split(b'\n', 1)[0])
    finally:
        os.close(fd)


def main(argv):
    if len(argv) < 2 or argv[1] in ('-h', '--help'):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if argv[1] == 'screendump' and len(argv) >= 3 and not argv[2].startswith('{'):
        args = {'filename': argv[2]}
        if len(argv) >= 4:
            args['format'] = argv[3]
        if len(argv) >= 5:
            args['device'] = argv[4]
    else:
        args = json.loads(argv[2]) if len(argv) > 2 else None
    try:
        reply = request(argv[1], args)
    except (OSError, ValueError) as e:
        print('hostqmp: %s' % e, file=sys.stderr)
        return 2
    print(json.dumps(reply))
    return 1 if 'error' in reply else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
