"""A pass-through HTTP proxy between Odoo and the simulator that can refuse one
alias in the middle of a batched mutation (a partial batch): it renames that
alias's operation to one PICO does not know, so PICO answers an error for it."""

import json
import threading
from http.server import BaseHTTPRequestHandler

import requests

from .local_server import LocalServer

REFUSED_OPERATION = "op-refused-by-reliability-proxy"


class FaultProxy(LocalServer):
    def __init__(self, port, target):
        self.target = target.rstrip("/")
        self.partial_batches = 0  # the next N mutations with 2+ aliases
        self.refused = 0
        self._lock = threading.Lock()
        super().__init__(port)

    def refuse_one_alias(self, body):
        """The body with one alias in the middle refused, if it is a batch."""
        try:
            request = json.loads(body)
        except ValueError:
            return body
        variables = request.get("variables") or {}
        aliases = [k for k, v in variables.items() if isinstance(v, dict)]
        if len(aliases) < 2 or "mutation" not in request.get("query", ""):
            return body
        with self._lock:
            if self.partial_batches <= 0:
                return body
            self.partial_batches -= 1
            self.refused += 1
        variables[aliases[len(aliases) // 2]]["operationId"] = REFUSED_OPERATION
        return json.dumps(request).encode()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._forward("POST", proxy.refuse_one_alias(body))

            def do_GET(self):
                self._forward("GET", None)

            def _forward(self, method, body):
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "content-length", "connection")
                }
                try:
                    answer = requests.request(
                        method, proxy.target + self.path, data=body,
                        headers=headers, timeout=60,
                    )  # fmt: skip
                except requests.RequestException:
                    self.close_connection = True  # PICO is down: so are we
                    return
                self.send_response(answer.status_code)
                for key in ("Content-Type",):
                    if key in answer.headers:
                        self.send_header(key, answer.headers[key])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args):
                pass

        return Handler
