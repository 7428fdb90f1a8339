#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ppm2png.py IN.ppm OUT.png: a binary PPM (P6) as an 8-bit RGB PNG (standard library only)."""
import struct
import sys
import zlib

sys.path.insert(0, __file__.rsplit('/', 1)[0])
from ppmcheck import read_ppm  # noqa: E402


def chunk(kind, data):
    return (struct.pack('>I', len(data)) + kind + data +
            struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    w, h, pix = read_ppm(argv[1])
    raw = b''.join(b'\0' + pix[3 * w * y:3 * w * (y + 1)] for y in range(h))
    png = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
           chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))
    with open(argv[2], 'wb') as f:
        f.write(png)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
