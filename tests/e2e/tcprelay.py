#!/usr/bin/python3
"""Relay stdin/stdout to a TCP server: tcprelay.py HOST PORT.

QEMU's slirp guestfwd has two forms. `guestfwd=...-tcp:HOST:PORT` opens ONE
chardev connection when QEMU starts and funnels every guest connection into
it, which breaks plain HTTP (one request per connection, server started
before QEMU). `guestfwd=...-cmd:COMMAND` spawns COMMAND for each guest
connection with the connection on its stdin/stdout - this script is that
command, so each guest connection to 169.254.169.254:80 becomes one fresh
connection to the test's metadata server.
"""
import os
import selectors
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    up = socket.create_connection((host, port), timeout=30)
    up.settimeout(None)
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, "guest")
    sel.register(up, selectors.EVENT_READ, "server")
    guest_open = True
    while True:
        for key, _ in sel.select(timeout=60):
            if key.data == "guest":
                data = os.read(0, 65536)
                if not data:
                    # the guest finished sending: pass the half-close on
                    sel.unregister(0)
                    guest_open = False
                    up.shutdown(socket.SHUT_WR)
                    continue
                up.sendall(data)
            else:
                data = up.recv(65536)
                if not data:
                    return 0
                view = memoryview(data)
                while view:
                    n = os.write(1, view)
                    view = view[n:]
        if not guest_open and not sel.get_map():
            return 0


if __name__ == "__main__":
    sys.exit(main())
