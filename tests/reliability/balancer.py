"""A round-robin HTTP load balancer in front of several Odoo nodes, as the one
PICO's webhooks reach when Odoo runs on more than one server: each request goes
to the next node in turn, and a node that refuses the connection is skipped."""

import itertools
import threading
from http.server import BaseHTTPRequestHandler

import requests

from .local_server import LocalServer

HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding"}


class RoundRobin(LocalServer):
    def __init__(self, port, targets):
        self.targets = [t.rstrip("/") for t in targets]
        self.forwarded = dict.fromkeys(self.targets, 0)
        self._turn = itertools.cycle(range(len(self.targets)))
        self._lock = threading.Lock()
        super().__init__(port)

    def _order(self):
        """The nodes to try for one request: the next in turn first."""
        with self._lock:
            first = next(self._turn)
        return self.targets[first:] + self.targets[:first]

    def _handler(self):
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self._forward("POST", self.rfile.read(length))

            def do_GET(self):
                self._forward("GET", None)

            def _forward(self, method, body):
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP
                }
                for target in balancer._order():
                    try:
                        answer = requests.request(
                            method, target + self.path, data=body, headers=headers,
                            timeout=300, allow_redirects=False,
                        )  # fmt: skip
                    except requests.ConnectionError:
                        continue  # that node is down: the next one
                    except requests.RequestException:
                        break
                    with balancer._lock:
                        balancer.forwarded[target] += 1
                    self._answer(answer.status_code, answer.content, answer.headers)
                    return
                self._answer(502, b"no node answered", {})

            def _answer(self, status, content, headers):
                self.send_response(status)
                if "Content-Type" in headers:
                    self.send_header("Content-Type", headers["Content-Type"])
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        return Handler
