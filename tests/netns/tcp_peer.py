#!/usr/bin/env python3
"""Kernel-side TCP checks against tapir, run inside the test's network namespace.

  tcp_peer.py chargen HOST PORT NBYTES   read NBYTES of RFC 864 chargen and check the pattern
  tcp_peer.py concurrent HOST PORT N     hold N echo connections open at once, each verified
  tcp_peer.py rst HOST PORT              connect to echo, then abort with RST (SO_LINGER 0)
  tcp_peer.py halfclose HOST PORT        send, shut down writing, still read every echo
  tcp_peer.py refused HOST PORT          a closed port must refuse (RST -> ECONNREFUSED)
  tcp_peer.py options HOST PORT          connect, print what the kernel negotiated (TCP_INFO)
  tcp_peer.py options-server HOST PORT   accept one connection, print what was negotiated,
                                         then read to EOF and print the length and SHA-256
Exit status 0 when the check holds; a one-line reason on stderr otherwise.
"""
import hashlib
import socket
import struct
import sys
import time


def chargen_cycle():
    # RFC 864: 72 of the 95 printable characters (space first) per line, line n starting
    # one character after line n-1, line 0 starting with '!'; CRLF after each line.
    lines = []
    for n in range(95):
        lines.append(bytes(32 + (n + i + 1) % 95 for i in range(72)) + b"\r\n")
    return b"".join(lines)


def check_chargen(host, port, nbytes):
    cycle = chargen_cycle()
    reps = (1 << 20) // len(cycle) + 2
    big = cycle * reps
    s = socket.create_connection((host, port), timeout=30)
    got = 0
    while got < nbytes:
        chunk = s.recv(min(1 << 20, nbytes - got))
        if not chunk:
            sys.exit(f"chargen: stream ended after {got} bytes")
        off = got % len(cycle)
        if big[off:off + len(chunk)] != chunk:
            sys.exit(f"chargen: pattern broken near byte {got}")
        got += len(chunk)
    s.close()
    print(f"chargen: {got} bytes, pattern intact")


def concurrent(host, port, n):
    socks = []
    for i in range(n):
        socks.append(socket.create_connection((host, port), timeout=10))
    for i, s in enumerate(socks):
        s.sendall(f"connection {i:04d} says hello\n".encode())
    for i, s in enumerate(socks):
        want = f"connection {i:04d} says hello\n".encode()
        got = b""
        while len(got) < len(want):
            chunk = s.recv(len(want) - len(got))
            if not chunk:
                sys.exit(f"concurrent: connection {i} closed early")
            got += chunk
        if got != want:
            sys.exit(f"concurrent: connection {i} echoed {got!r}")
    print(f"concurrent: {n} connections open and verified")
    sys.stdout.flush()
    # Keep them open until told to go (stdin closes), so the caller can look at `tapir ss`.
    sys.stdin.read()
    for s in socks:
        s.close()


def rst(host, port):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"about to reset\n")
    assert s.recv(100) == b"about to reset\n"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    print(f"rst: aborting from port {s.getsockname()[1]}")
    s.close()


def halfclose(host, port):
    s = socket.create_connection((host, port), timeout=5)
    data = bytes(range(256)) * 400
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    if got != data:
        sys.exit(f"halfclose: got {len(got)} of {len(data)} bytes back")
    print(f"halfclose: {len(got)} bytes echoed after SHUT_WR, then EOF")


def refused(host, port):
    try:
        socket.create_connection((host, port), timeout=5)
    except ConnectionRefusedError:
        print(f"refused: port {port} answered with RST")
        return
    sys.exit(f"refused: port {port} accepted a connection")


def negotiated(s):
    # struct tcp_info (linux/tcp.h): u8 state, ca_state, retransmits, probes, backoff,
    # options, snd_wscale:4|rcv_wscale:4, ...; then u32 rto, ato, snd_mss, rcv_mss.
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    options = info[5]
    snd_mss = struct.unpack_from("I", info, 16)[0]
    names = [n for bit, n in ((1, "ts"), (2, "sack"), (4, "wscale")) if options & bit]
    return " ".join(names) + f" mss:{snd_mss}"


def options(host, port):
    s = socket.create_connection((host, port), timeout=5)
    print(f"options: {negotiated(s)}")
    s.close()


def options_server(host, port):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, port))
    l.listen(1)
    print("listening", flush=True)
    s, _ = l.accept()
    print(f"options: {negotiated(s)}", flush=True)
    h = hashlib.sha256()
    n = 0
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    print(f"received {n} {h.hexdigest()}", flush=True)
    s.close()


if __name__ == "__main__":
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if cmd == "chargen":
        check_chargen(host, port, int(sys.argv[4]))
    elif cmd == "concurrent":
        concurrent(host, port, int(sys.argv[4]))
    elif cmd == "rst":
        rst(host, port)
    elif cmd == "halfclose":
        halfclose(host, port)
    elif cmd == "refused":
        refused(host, port)
    elif cmd == "options":
        options(host, port)
    elif cmd == "options-server":
        options_server(host, port)
    else:
        sys.exit(f"unknown check {cmd}")
