"""The skeleton the suite's small HTTP servers share (the fault proxy, the
balancer): a threaded server on 127.0.0.1, started and stopped by the stack."""

import threading
from http.server import ThreadingHTTPServer


class LocalServer:
    def __init__(self, port):
        self.port = port
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        """The ``BaseHTTPRequestHandler`` class serving this server's requests."""
        raise NotImplementedError
