"""HTTP front on one port: the GraphQL endpoint, the control API and the web page."""

import hmac
import json
import logging
import socket
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import control, web
from .schema import RequestContext, execute_request

GRAPHQL_PATHS = ("/graph/v2", "/graphql")
TOKEN_HEADER = "x-pico-api-org"

_logger = logging.getLogger("pico_sim.http")


class BadRequest(ValueError):
    pass


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload) -> "Response":
        return cls(status, json.dumps(payload).encode())

    @classmethod
    def html(cls, page: str) -> "Response":
        return cls(200, page.encode(), "text/html; charset=utf-8")

    @classmethod
    def redirect(cls, location: str) -> "Response":
        return cls(303, content_type="text/plain", headers={"Location": location})


def _errors(status: int, message: str) -> Response:
    return Response.json(status, {"errors": [{"message": message}]})


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, sim, address: tuple[str, int]):
        self.sim = sim
        super().__init__(address, RequestHandler)


def make_server(sim, host: str, port: int) -> SimulatorHTTPServer:
    return SimulatorHTTPServer(sim, (host, port))


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server_version = "pico-sim"

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def log_message(self, format, *args):
        _logger.info("%s %s", self.address_string(), format % args)

    def _handle(self, method: str) -> None:
        try:
            response = self._route(method)
        except BadRequest as error:
            response = _errors(400, str(error))
        except Exception:  # a simulator bug must still answer, not hang the client
            _logger.exception("error handling %s %s", method, self.path)
            response = _errors(500, "internal simulator error")
        if response is None:
            self._drop_connection()
        else:
            self._send(response)

    def _route(self, method: str) -> Response | None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        sim = self.server.sim
        if path in GRAPHQL_PATHS:
            return self._graphql() if method == "POST" else _errors(405, "use POST")
        if path == "/healthz":
            return Response.json(200, {"ok": True})
        if path.startswith("/control/"):
            if not self._authorized():
                return _errors(401, f"invalid or missing {TOKEN_HEADER} token")
            body = self._read_json() if method == "POST" else {}
            query = {name: values[-1] for name, values in parse_qs(url.query).items()}
            return Response.json(*control.handle(sim, method, path, query, body))
        if path == "/" and method == "GET":
            return Response.html(web.render_page(sim, parse_qs(url.query)))
        if path.startswith("/ui/") and method == "POST":
            return Response.redirect(web.handle_form(sim, path[4:], self._read_form()))
        return _errors(404, f"no route for {method} {path}")

    # -- GraphQL ----------------------------------------------------------------

    def _graphql(self) -> Response | None:
        started = time.perf_counter()
        context = RequestContext(self.server.sim)
        details = {"operation_name": None, "fault": None}
        response = self._graphql_response(context, details)
        self.server.sim.record_request(
            response.status if response else None,
            context.fields,
            time.perf_counter() - started,
            **details,
        )
        return response

    def _graphql_response(self, context, details: dict) -> Response | None:
        """The response to a GraphQL request, or None to drop the connection."""
        if not self._authorized():
            return _errors(401, f"invalid or missing {TOKEN_HEADER} token")
        try:
            query, variables, operation_name = _graphql_params(self._read_json())
        except BadRequest as error:
            return _errors(400, str(error))
        details["operation_name"] = operation_name
        faults = context.sim.faults.take()
        if faults:
            time.sleep(faults.latency)
            details["fault"] = "latency"
            if faults.drop_connection:
                details["fault"] = "drop_connection"
                return None
            if faults.http_status:
                details["fault"] = f"http_status {faults.http_status}"
                return _errors(
                    faults.http_status, f"injected HTTP {faults.http_status}"
                )
            if faults.graphql_error:
                details["fault"] = "graphql_error"
                return _errors(200, faults.graphql_error)
            if faults.refuse_alias:
                details["fault"] = f"refuse_alias {faults.refuse_alias}"
                context.refuse_alias = faults.refuse_alias
            if faults.answer:
                details["fault"] = f"answer {faults.answer}"
                if faults.answer == "no_data":
                    return Response.json(200, {"data": None})
                context.answer = faults.answer
        return Response.json(
            200, execute_request(query, variables, operation_name, context)
        )

    # -- plumbing ---------------------------------------------------------------

    def _authorized(self) -> bool:
        given = self.headers.get(TOKEN_HEADER, "")
        return hmac.compare_digest(given.encode(), self.server.sim.token.encode())

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_json(self):
        body = self._read_body()
        try:
            return json.loads(body) if body else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BadRequest(f"malformed JSON body: {error}") from error

    def _read_form(self) -> dict[str, str]:
        fields = parse_qs(self._read_body().decode("utf-8", "replace"))
        return {name: values[-1] for name, values in fields.items()}

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def _drop_connection(self) -> None:
        """Close the socket without a response, as a crashed server or cut link."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _graphql_params(request) -> tuple[str, dict | None, str | None]:
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        raise BadRequest('the body must be a JSON object with a "query" string')
    variables, operation_name = request.get("variables"), request.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest('"variables" must be a JSON object')
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest('"operationName" must be a string')
    return request["query"], variables, operation_name
