#!/usr/bin/env python3
"""A backend that reads every request body to the end, discards it and answers 200 with the byte count.

Usage: python3 bench/sink.py PORT  (127.0.0.1 only; bench/memory.sh's upload target). Content-Length and chunked
bodies; keep-alive; one thread per connection (a bench has one or two).
"""
import socket, sys, threading

BUF = bytearray(1 << 20)

def read_head(conn, rest):
    while b"\r\n\r\n" not in rest:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    head, _, rest = rest.partition(b"\r\n\r\n")
    return head, rest

def discard(conn, rest, length):
    """Reads and drops length bytes, rest first; returns what was read past them."""
    if len(rest) >= length:
        return rest[length:]
    length -= len(rest)
    view = memoryview(BUF)
    while length > 0:
        n = conn.recv_into(view, min(length, len(BUF)))
        if n == 0:
            raise ConnectionError("body cut short")
        length -= n
    return b""

def read_line(conn, rest):
    while b"\r\n" not in rest:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("chunked body cut short")
        rest += chunk
    line, _, rest = rest.partition(b"\r\n")
    return line, rest

def serve(conn):
    rest = b""
    with conn:
        try:
            while True:
                head, rest = read_head(conn, rest)
                if head is None:
                    return
                length, chunked = 0, False
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"transfer-encoding" and b"chunked" in value.lower():
                        chunked = True
                total = length
                if chunked:
                    total = 0
                    while True:
                        size_line, rest = read_line(conn, rest)
                        size = int(size_line.split(b";")[0], 16)
                        if size == 0:
                            while True:  # trailers up to the empty line
                                line, rest = read_line(conn, rest)
                                if not line:
                                    break
                            break
                        rest = discard(conn, rest, size + 2)
                        total += size
                else:
                    rest = discard(conn, rest, length)
                body = b"%d\n" % total
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                             % (len(body), body))
        except (ConnectionError, ValueError):
            pass

def main():
    server = socket.create_server(("127.0.0.1", int(sys.argv[1])), backlog=64)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()

if __name__ == "__main__":
    main()
