"""An HTTPS server on 127.0.0.1 for the outbound HTTP tests (test/integration/outbound_http_test.cc),
with a certificate from a test CA of its own (testenv/ca.py):

  /fast            200 "hello"
  /slow?ms=N       200 "slow" after N ms (default 1500)
  /stall           reads the request and never answers (until the server stops)
  /redirect        302 to https://169.254.169.254/ (which must not be followed)
  /echo            200 with "<method> <body>"

Prints one JSON line {"pid", "port", "ca"} on stdout, then serves until SIGTERM or until its
parent is gone (it checks every half second), so a crashed test leaves nothing behind.
"""
import http.server
import json
import os
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".."))
from testenv.ca import CertificateAuthority  # noqa: E402

stop = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.route("")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.route(self.rfile.read(length).decode(errors="replace"))

    def route(self, body):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/fast":
            self.answer(200, "hello", [("X-Test", "fast")])
        elif url.path == "/slow":
            ms = int(urllib.parse.parse_qs(url.query).get("ms", ["1500"])[0])
            time.sleep(ms / 1000)
            self.answer(200, "slow")
        elif url.path == "/stall":
            stop.wait()
        elif url.path == "/redirect":
            self.answer(302, "", [("Location", "https://169.254.169.254/latest/meta-data")])
        elif url.path == "/echo":
            self.answer(200, f"{self.command} {body}")
        else:
            self.answer(404, "no such path")


def main():
    folder = tempfile.mkdtemp(prefix="wop-outbound-")
    ca = CertificateAuthority.create(os.path.join(folder, "ca"))
    cert, key = ca.issue_server(os.path.join(folder, "tls"), "outbound")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(json.dumps({"pid": os.getpid(), "port": server.server_address[1], "ca": ca.cert_file}),
          flush=True)
    parent = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent:
            break
    stop.set()
    server.shutdown()
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
