#!/usr/bin/env python3
"""A fault-injecting proxy on 127.0.0.1 in front of kube-apiserver's TLS port: what the
host under test sees as a slow, stalling, flaky API server.

Two modes, chosen when it starts (a connection's mode cannot change mid-stream):

  tcp   bytes are relayed as they are (TLS and HTTP/2 end to end, between the host and the
        API server). Faults are byte-level: latency (every relayed chunk is held back),
        resets (each connection is cut with a TCP RST after a random number of bytes),
        stall (nothing is relayed, new connections wait: the API server hangs).
  http  TLS is terminated with the control plane's own API server certificate (the test CA
        signs it for 127.0.0.1) and offered as HTTP/1.1 only (ALPN), so the host speaks
        HTTP/1.1 to the proxy; every request is forwarded on a new TLS connection to the API
        server with the admin client certificate (the host's identity in these tests; its
        impersonation headers pass through). Faults are HTTP-level: 429 with Retry-After,
        5xx (503 before forwarding, 500 after the API server applied the request, 504),
        watch streams cut after a random number of body bytes.

Faults are switched on and off at run time (Proxy.set_fault) from the harness, which runs the
proxy on a thread of its own; `proxy.py --dir CONTROLPLANE_DIR --mode M --fault F` runs one by
hand. Every injected fault is counted (Proxy.stats)."""
import argparse
import asyncio
import json
import os
import random
import socket
import ssl
import struct
import threading
import time

FAULTS = ("none", "latency", "resets", "stall", "truncate-watch", "429", "5xx")
TCP_FAULTS = ("latency", "resets", "stall")
HTTP_FAULTS = ("truncate-watch", "429", "5xx")
HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "te", "upgrade", "expect"}


def rst_close(writer):
    """Closes with a TCP RST (SO_LINGER 0), as a crashed peer or a middlebox does."""
    sock = writer.get_extra_info("socket")
    try:
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    writer.transport.abort()


class Proxy:
    def __init__(self, upstream_port, pki, mode="tcp", seed=1, latency_ms=60, every=3):
        assert mode in ("tcp", "http")
        self.upstream_port, self.pki, self.mode = upstream_port, pki, mode
        self.latency_s = latency_ms / 1000
        self.every = every  # http faults: one request in `every`
        self.random = random.Random(seed)
        self.fault = "none"
        self.stats = {"connections": 0, "requests": 0, "injected": 0, "resets": 0, "truncated": 0,
                      "status": {}, "stalled_connections": 0}
        self.port = None
        self.loop = None
        self.server = None
        self.counter = 0
        self.writers = set()
        self.thread = None
        self.ready = threading.Event()
        self.unstalled = None  # asyncio.Event, set when not stalling

    # ------------------------------------------------------------------ control (any thread)

    def start(self):
        self.thread = threading.Thread(target=self._thread, daemon=True)
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("proxy did not start")
        return self.port

    def stop(self):
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)

    def set_fault(self, fault):
        assert fault in FAULTS
        if fault in TCP_FAULTS and self.mode != "tcp" or fault in HTTP_FAULTS and self.mode != "http":
            raise ValueError(f"fault {fault} needs the other mode than {self.mode}")
        self.loop.call_soon_threadsafe(self._set_fault, fault)

    def _set_fault(self, fault):
        self.fault = fault
        if fault == "stall":
            self.unstalled.clear()
        else:
            self.unstalled.set()
        if fault == "resets":  # connections already open are cut too, not only new ones
            for w in list(self.writers):
                self.stats["resets"] += 1
                rst_close(w)

    # ------------------------------------------------------------------ the server

    def _thread(self):
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.unstalled = asyncio.Event()
        self.unstalled.set()
        ssl_ctx = None
        if self.mode == "http":
            ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ssl_ctx.load_cert_chain(os.path.join(self.pki, "apiserver.crt"), os.path.join(self.pki, "apiserver.key"))
            ssl_ctx.set_alpn_protocols(["http/1.1"])
            ssl_ctx.load_verify_locations(os.path.join(self.pki, "ca.crt"))
            ssl_ctx.verify_mode = ssl.CERT_OPTIONAL
        handler = self._tcp if self.mode == "tcp" else self._http
        self.server = self.loop.run_until_complete(
            asyncio.start_server(handler, "127.0.0.1", 0, ssl=ssl_ctx, limit=1 << 20))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.server.close()
            for w in list(self.writers):
                w.transport.abort()
            self.loop.set_exception_handler(lambda loop, context: None)  # stopping: quiet
            tasks = asyncio.all_tasks(self.loop)
            for t in tasks:
                t.cancel()
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self.loop.close()

    def _upstream_ssl(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.pki, "ca.crt"))
        ctx.load_cert_chain(os.path.join(self.pki, "admin.crt"), os.path.join(self.pki, "admin.key"))
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    # ------------------------------------------------------------------ tcp mode

    async def _tcp(self, reader, writer):
        self.stats["connections"] += 1
        if not self.unstalled.is_set():
            self.stats["stalled_connections"] += 1
        await self.unstalled.wait()
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            rst_close(writer)
            return
        self.writers.update((writer, up_writer))
        budget = [self.random.randint(2_000, 120_000)]  # bytes until a reset, in "resets"
        try:
            await asyncio.gather(self._pump(reader, up_writer, writer, budget),
                                 self._pump(up_reader, writer, up_writer, budget))
        except asyncio.CancelledError:
            pass  # the proxy is stopping
        finally:
            self.writers.discard(writer)
            self.writers.discard(up_writer)

    async def _pump(self, reader, writer, other, budget):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                await self.unstalled.wait()
                if self.fault == "latency":
                    await asyncio.sleep(self.latency_s)
                if self.fault == "resets":
                    budget[0] -= len(data)
                    if budget[0] <= 0:
                        self.stats["resets"] += 1
                        rst_close(writer)
                        rst_close(other)
                        return
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (OSError, asyncio.IncompleteReadError, ConnectionError):
            rst_close(writer)
            rst_close(other)

    # ------------------------------------------------------------------ http mode

    def _http_fault(self, is_watch):
        """None, or what to do with this request."""
        self.counter += 1
        if self.fault == "none" or self.counter % self.every:
            return None
        if self.fault == "truncate-watch":
            return ("truncate", self.random.randint(100, 6000)) if is_watch else None
        if self.fault == "429":
            return ("status", 429, "1")
        # 5xx: rejected before forwarding (503, 504) or failing after the API server applied it (500)
        return [("status", 503, None), ("after", 500), ("status", 504, None)][(self.counter // self.every) % 3]

    async def _http(self, reader, writer):
        self.stats["connections"] += 1
        self.writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [tuple(x.split(":", 1)) for x in lines[1:] if ":" in x]
                names = {k.strip().lower(): v.strip() for k, v in headers}
                if names.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = b""
                if "content-length" in names:
                    body = await reader.readexactly(int(names["content-length"]))
                elif names.get("transfer-encoding", "").lower() == "chunked":
                    body = await self._read_chunked(reader)
                self.stats["requests"] += 1
                is_watch = "watch=1" in target or "watch=true" in target
                fault = self._http_fault(is_watch)
                if fault and fault[0] == "status":
                    await self._answer(writer, fault[1], fault[2], method, target)
                    return
                await self._forward(writer, method, target, headers, body, fault)
                return  # Connection: close on every response: one request per connection
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            pass  # the client or the API server went away, or the proxy is stopping
        finally:
            self.writers.discard(writer)
            writer.transport.abort()

    async def _read_chunked(self, reader):
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return body
            body += chunk[:-2]

    async def _answer(self, writer, status, retry_after, method, target):
        self.stats["injected"] += 1
        self.stats["status"][str(status)] = self.stats["status"].get(str(status), 0) + 1
        reason = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
                  504: "Gateway Timeout"}[status]
        body = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": f"injected by the chaos proxy: {method} {target}",
                           "reason": "TooManyRequests" if status == 429 else "InternalError",
                           "code": status}).encode()
        extra = f"Retry-After: {retry_after}\r\n" if retry_after else ""
        writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n{extra}"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()

    async def _forward(self, writer, method, target, headers, body, fault):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port,
                                                             ssl=self._upstream_ssl(), limit=1 << 20)
        self.writers.add(up_writer)
        try:
            out = [f"{method} {target} HTTP/1.1"]
            for k, v in headers:
                if k.strip().lower() not in HOP_HEADERS and k.strip().lower() not in ("content-length", "transfer-encoding"):
                    out.append(f"{k.strip()}: {v.strip()}")
            out += [f"Content-Length: {len(body)}", "Connection: close"]
            up_writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + body)
            await up_writer.drain()
            if fault and fault[0] == "after":  # applied upstream, but the client sees a 5xx
                await up_reader.read(65536)
                await self._answer(writer, fault[1], None, method, target)
                return
            head = await up_reader.readuntil(b"\r\n\r\n")
            writer.write(head)
            budget = fault[1] if fault and fault[0] == "truncate" else None
            while True:
                data = await up_reader.read(65536)
                if not data:
                    break
                if budget is not None and len(data) >= budget:
                    writer.write(data[:budget])
                    await writer.drain()
                    self.stats["truncated"] += 1
                    self.stats["injected"] += 1
                    rst_close(writer)
                    return
                if budget is not None:
                    budget -= len(data)
                writer.write(data)
                await writer.drain()
        finally:
            self.writers.discard(up_writer)
            up_writer.transport.abort()


def write_kubeconfig(src, dest, port):
    """A copy of the kubeconfig src whose server is the proxy."""
    with open(src) as f:
        config = json.load(f)
    for c in config["clusters"]:
        c["cluster"]["server"] = f"https://127.0.0.1:{port}"
    with open(dest, "w") as f:
        json.dump(config, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="state folder of a testenv/controlplane.py control plane")
    parser.add_argument("--mode", choices=("tcp", "http"), default="tcp")
    parser.add_argument("--fault", choices=FAULTS, default="none")
    parser.add_argument("--kubeconfig-out", help="write a kubeconfig pointing at the proxy here")
    args = parser.parse_args()
    with open(os.path.join(args.dir, "state.json")) as f:
        state = json.load(f)
    proxy = Proxy(state["apiserver_port"], os.path.join(args.dir, "pki"), args.mode)
    port = proxy.start()
    proxy.set_fault(args.fault)
    if args.kubeconfig_out:
        write_kubeconfig(os.path.join(args.dir, "kubeconfig"), args.kubeconfig_out, port)
    print(f"proxy on 127.0.0.1:{port} ({args.mode}, fault {args.fault}); Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(5)
            print(json.dumps(proxy.stats), flush=True)
    except KeyboardInterrupt:
        proxy.stop()


if __name__ == "__main__":
    main()
