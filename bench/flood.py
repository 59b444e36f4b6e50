#!/usr/bin/env python3
"""Connection flood: how the gateway treats connections that never finish (issue 14, part 4).

    bench/flood.py HOST:PORT PID [CONNECTIONS] [SECONDS]

Opens CONNECTIONS (default 2,000) TCP connections to HOST:PORT, half sending nothing, half half
a request head, and reports every second for SECONDS (default 25) how many the server still holds open and the
server's resident memory (PID's VmRSS), then closes what is left and reports the memory 5 s later.
"""
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def still_open(sock):
    try:
        sock.setblocking(False)
        data = sock.recv(4096)
        return data != b"" and still_open_after_data(sock)
    except BlockingIOError:
        return True
    except OSError:
        return False


def still_open_after_data(sock):
    # The server answered (a 429): open until it closes, which it does at once.
    return still_open(sock)


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    pid = int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    seconds = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    before = rss_kib(pid)
    print(f"server RSS before: {before / 1024:.1f} MiB")
    sockets = []
    refused = 0
    for i in range(count):
        try:
            s = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            refused += 1
            continue
        if i % 2:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: flood\r\nX-Slow: ")
        sockets.append(s)
    print(f"opened {len(sockets)} connections ({refused} could not connect)")
    start = time.time()
    for _ in range(seconds):
        time.sleep(1)
        open_now = sum(1 for s in sockets if still_open(s))
        print(f"t={time.time() - start:4.1f}s open={open_now:5d} server RSS={rss_kib(pid) / 1024:.1f} MiB")
    for s in sockets:
        s.close()
    time.sleep(5)
    after = rss_kib(pid)
    print(f"server RSS 5 s after the flood: {after / 1024:.1f} MiB (before: {before / 1024:.1f} MiB)")


if __name__ == "__main__":
    main()
