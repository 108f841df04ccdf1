#!/usr/bin/python3
"""Slow clients against lighttpd while /health is measured (tests/faults/slowloris.sh).

Opens SOCKETS connections to HOST:PORT and sends one byte of a request header per
second on each (a slowloris attack, bounded: loopback only, a fixed number of
sockets), for SECONDS; meanwhile GETs /health every 0.25 s on a fresh connection and
records status and latency. Prints "SLOW key value" lines:
  opened, still_open (at the end), dropped_by_server, health_requests, health_failures,
  health_p50_ms, health_p99_ms, health_max_ms

usage: slowloris.py HOST PORT SOCKETS SECONDS
"""
import http.client
import socket
import sys
import threading
import time

host, port, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
header = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nX-Slow: " + b"a" * 100000
socks, dropped = [], [0]
stop = threading.Event()


def drip():
    for i in range(count):
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.setblocking(False)
            socks.append(s)
        except OSError:
            dropped[0] += 1
    pos = 0
    while not stop.is_set():
        for s in list(socks):
            try:
                s.send(header[pos:pos + 1])
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                socks.remove(s)
                dropped[0] += 1
        pos = (pos + 1) % len(header)
        stop.wait(1.0)


t = threading.Thread(target=drip, daemon=True)
t.start()
time.sleep(1.5)  # all sockets open and dripping
lat, failures = [], 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection(host, port, timeout=5)
        c.request("GET", "/health")
        r = c.getresponse()
        r.read()
        c.close()
        if r.status != 200:
            failures += 1
    except OSError:
        failures += 1
    lat.append((time.monotonic() - t0) * 1000)
    time.sleep(0.25)
stop.set()
t.join()
still = 0
for s in socks:
    try:
        # the server closed it if a read says EOF (or reset)
        s.setblocking(False)
        data = s.recv(1)
        if data:
            still += 1
    except BlockingIOError:
        still += 1
    except OSError:
        pass
    s.close()
lat.sort()
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else -1
print("SLOW opened %d" % count)
print("SLOW still_open %d" % still)
print("SLOW dropped_by_server %d" % (count - still))
print("SLOW health_requests %d" % len(lat))
print("SLOW health_failures %d" % failures)
print("SLOW health_p50_ms %.1f" % pick(0.5))
print("SLOW health_p99_ms %.1f" % pick(0.99))
print("SLOW health_max_ms %.1f" % (lat[-1] if lat else -1))
