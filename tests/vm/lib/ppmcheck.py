#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check a screenshot (binary PPM, P6, as QEMU's screendump writes it).

usage: ppmcheck.py FILE size W H
       ppmcheck.py FILE pattern W H FORMAT     the test pattern of vdf/fbdraw.h
       ppmcheck.py FILE color W H RRGGBB FORMAT    every sampled pixel is RRGGBB

FORMAT (XRGB8888 or RGB565) is the mode the picture was drawn in: RGB565
pixels are compared after the same quantisation (5/6/5 bits, widened again
by repeating the top bits). Prints what it checked; exit 0 if all matched.
"""
import sys


def read_ppm(path):
    with open(path, 'rb') as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            pos = data.index(b'\n', pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b'P6' or int(fields[3]) != 255:
        raise ValueError('not an 8-bit P6 PPM')
    w, h = int(fields[1]), int(fields[2])
    pos += 1  # the single whitespace after maxval
    pix = data[pos:pos + 3 * w * h]
    if len(pix) != 3 * w * h:
        raise ValueError('truncated: %d of %d pixel bytes' % (len(pix), 3 * w * h))
    return w, h, pix


def quantize(rgb, fmt):
    if fmt.upper() != 'RGB565':
        return rgb
    r, g, b = (rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff
    r, g, b = r >> 3, g >> 2, b >> 3
    r, g, b = (r << 3) | (r >> 2), (g << 2) | (g >> 4), (b << 3) | (b >> 2)
    return (r << 16) | (g << 8) | b


def close(a, b, tol):
    return all(abs(((a >> s) & 0xff) - ((b >> s) & 0xff)) <= tol for s in (16, 8, 0))


BARS = [0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00, 0xFF00FF, 0xFF0000, 0x0000FF, 0x000000]


def pattern_samples(w, h):
    """(x, y, 0xRRGGBB, what) from the test pattern's specification."""
    s = []
    for i, c in enumerate(BARS):
        x0, x1 = i * w // 8, (i + 1) * w // 8
        s.append(((x0 + x1) // 2, h // 3, c, 'bar %d' % i))
    top = 2 * h // 3
    for k in range(16):
        x0, x1 = k * w // 16, (k + 1) * w // 16
        v = k * 17
        s.append(((x0 + x1) // 2, (top + h - 1) // 2, (v << 16) | (v << 8) | v, 'grey %d' % k))
    for x, y in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w // 2, 0), (0, h // 2)):
        s.append((x, y, 0xFFFFFF, 'frame'))
    return s


def main(argv):
    if len(argv) < 5:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    path, what, want_w, want_h = argv[1], argv[2], int(argv[3]), int(argv[4])
    try:
        w, h, pix = read_ppm(path)
    except (OSError, ValueError) as e:
        print('ppmcheck: %s: %s' % (path, e))
        return 1
    if (w, h) != (want_w, want_h):
        print('ppmcheck: %s is %dx%d, want %dx%d' % (path, w, h, want_w, want_h))
        return 1
    if what == 'size':
        print('ppmcheck: %dx%d' % (w, h))
        return 0
    if what == 'pattern':
        fmt = argv[5]
        samples = pattern_samples(w, h)
    elif what == 'color':
        rgb, fmt = int(argv[5], 16), argv[6]
        samples = [(x * (w - 1) // 4, y * (h - 1) // 4, rgb, 'point')
                   for x in range(5) for y in range(5)]
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    bad = 0
    for x, y, rgb, label in samples:
        o = 3 * (y * w + x)
        got = (pix[o] << 16) | (pix[o + 1] << 8) | pix[o + 2]
        want = quantize(rgb, fmt)
        if not close(got, want, 0 if fmt.upper() != 'RGB565' else 4):
            print('ppmcheck: %s at (%d,%d): got %06x, want %06x' % (label, x, y, got, want))
            bad += 1
    print('ppmcheck: %s %dx%d %s: %d of %d sampled pixels match' %
          (what, w, h, fmt, len(samples) - bad, len(samples)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
