# SPDX-License-Identifier: MIT
# ICMP echo with the standard library (the guest has no ping binary):
#   python3 pyping.py COUNT ADDR  -> "N/COUNT replies, rtt avg X ms", exit 0 if all came back
import os, socket, struct, sys, time
def csum(b):
    b += b'\0' * (len(b) & 1)
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
count, dst = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(5)
ident, ok, rtts = os.getpid() & 0xffff, 0, []
for seq in range(count):
    body = b'vdf-tap ping %d' % seq
    hdr = struct.pack('!BBHHH', 8, 0, 0, ident, seq)
    pkt = struct.pack('!BBHHH', 8, 0, csum(hdr + body), ident, seq) + body
    t0 = time.time(); s.sendto(pkt, (dst, 0))
    try:
        while True:
            r, a = s.recvfrom(2048)
            ihl = (r[0] & 15) * 4
            t, _, _, rid, rseq = struct.unpack('!BBHHH', r[ihl:ihl + 8])
            if a[0] == dst and t == 0 and rid == ident and rseq == seq and r[ihl + 8:] == body:
                ok += 1; rtts.append((time.time() - t0) * 1000); break
    except socket.timeout:
        pass
    time.sleep(0.2)
print('%d/%d replies%s' % (ok, count, ', rtt avg %.2f ms' % (sum(rtts) / len(rtts)) if rtts else ''))
sys.exit(0 if ok == count else 1)
