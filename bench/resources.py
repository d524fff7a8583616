#!/usr/bin/env python3
"""Tether's memory under many idle keep-alive connections and many slow uploads (loopback only, bounded).

Usage: python3 bench/resources.py [--idle 10000] [--uploads 1000] [--jar target/tether.jar] [--workers 2]
                                  [--java-args "@conf/jvm.options"] [--cpu 0]
Starts Tether (one JVM; the JVM's defaults unless --java-args; pinned to --cpu with taskset) in front of an asyncio backend in this process, then:
  1. opens --idle client connections, sends one request on each (answered 404 by Tether: no backend needed) and
     keeps them open, idle; reports Tether's RSS;
  2. (unless --uploads 0) starts --uploads POSTs of 1 MB each that send their body at ~1 KB/s for 15 s; reports Tether's RSS.
"""
import argparse, asyncio, os, resource, shlex, socket, subprocess, sys, tempfile, time

def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

async def backend(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            while length > 0:
                chunk = await reader.read(min(length, 65536))
                if not chunk:
                    return
                length -= len(chunk)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()

async def idle_connection(port, held):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: nowhere.invalid\r\n\r\n")
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    held.append(writer)

async def slow_upload(port, seconds, results):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /upload HTTP/1.1\r\nHost: app\r\nContent-Length: 1000000\r\n\r\n")
    deadline = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < deadline:
        writer.write(b"x" * 1024)
        sent += 1024
        await writer.drain()
        await asyncio.sleep(1)
    results.append(sent)
    writer.close()

async def main(args):
    backend_port = free_port()
    server = await asyncio.start_server(backend, "127.0.0.1", backend_port, limit=1 << 20)
    port = free_port()
    conf = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    conf.write(f"""listen: [{{address: 127.0.0.1, port: {port}}}]
admin: {{enabled: false}}
access_log: {{enabled: false}}
workers: {args.workers}
limits: {{max_connections: {args.idle + args.uploads + 100}}}
timeouts: {{idle: 120s, header: 30s, body: 60s}}
upstreams:
  app:
    servers: [{{name: b, address: "127.0.0.1:{backend_port}"}}]
routes: [{{host: app, path: /, upstream: app}}]
""")
    conf.close()
    pin = ["taskset", "-c", args.cpu] if args.cpu else []
    java = [*pin, "java", *shlex.split(args.java_args), "-jar", args.jar]
    tether = subprocess.Popen([*java, "run", "--config", conf.name],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                await asyncio.sleep(0.2)
        print(f"tether pid {tether.pid}: RSS at start {rss_kib(tether.pid) // 1024} MiB")
        held = []
        for batch in range(0, args.idle, 500):
            await asyncio.gather(*(idle_connection(port, held) for _ in range(min(500, args.idle - batch))))
        await asyncio.sleep(3)
        print(f"{len(held)} idle keep-alive connections: RSS {rss_kib(tether.pid) // 1024} MiB"
              f" (peak so far {rss_kib(tether.pid, 'VmHWM') // 1024} MiB)")
        if args.uploads == 0:
            return
        results = []
        uploads = [asyncio.create_task(slow_upload(port, 15, results)) for _ in range(args.uploads)]
        await asyncio.sleep(10)
        print(f"+ {args.uploads} slow uploads in progress: RSS {rss_kib(tether.pid) // 1024} MiB")
        await asyncio.gather(*uploads, return_exceptions=True)
        alive = sum(1 for w in held if not w.is_closing())
        print(f"after uploads: {alive} idle connections still open, RSS {rss_kib(tether.pid) // 1024} MiB")
        for w in held:
            w.close()
    finally:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: None)  # backend tasks cut at exit
        tether.terminate()
        tether.wait(timeout=40)
        server.close()
        os.unlink(conf.name)

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--idle", type=int, default=10000)
    p.add_argument("--uploads", type=int, default=1000)
    p.add_argument("--jar", default="target/tether.jar")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--java-args", default="", help="JVM options, split as a shell would")
    p.add_argument("--cpu", default="", help="taskset -c CPU for Tether")
    args = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(args))
