"""PICO's webhook: authenticate, bound, parse, persist, answer; then process."""

import json
import logging

from odoo import SUPERUSER_ID, api, http
from odoo.http import request

from ..models.res_company import SECRET_HEADER, WEBHOOK_ROUTE
from ..services.payload import parse_batch

_logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1024 * 1024
READ_CHUNK = 64 * 1024
BODY_KEY = "pico_mes.webhook_body"


class PicoWebhookController(http.Controller):
    @http.route(
        WEBHOOK_ROUTE,
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def pico_webhook(self):
        env = api.Environment(request.env.cr, SUPERUSER_ID, {})
        company = self._authenticate(env)
        if not company:
            return _answer(401, error="missing or wrong webhook secret")
        body, error = self._read_body(env)
        if error:
            return error
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            return _answer(
                400, error="invalid event", problems=["the body is not valid JSON"]
            )
        events, problems = parse_batch(decoded)
        if not events:
            return _answer(400, error="invalid event", problems=problems)
        Inbox = env["pico.inbox"].with_company(company)
        messages, duplicates, ignored = Inbox._receive_delivery(company, events)
        request.env.cr.commit()  # pylint: disable=invalid-commit
        messages._process()  # what cannot be processed now stays for the cron
        counts = {"accepted": len(messages), "duplicates": duplicates}
        if ignored:  # another company's or database's orders: not ours
            counts["ignored"] = ignored
        if problems:  # the good events are kept; the sender learns about the others
            _logger.warning("PICO webhook refused part of a batch: %s", problems)
            return _answer(400, error="invalid event", problems=problems, **counts)
        return _answer(200, **counts)

    def _authenticate(self, env):
        """The company whose secret the request carries (constant-time compare)."""
        secret = request.httprequest.headers.get(SECRET_HEADER)
        company = self._company_for_secret(env, secret)
        if not company:
            _logger.warning(
                "PICO webhook refused from %s: %s secret header",
                request.httprequest.remote_addr,
                "wrong" if secret else "no",
            )
        return company

    def _company_for_secret(self, env, secret):
        """The one secret check. A header is latin-1 text: a non-ASCII one is
        wrong (a secret is ASCII; constant-time compare refuses anything else)."""
        if not secret or not secret.isascii():
            return env["res.company"]
        return env["res.company"]._pico_company_for_secret(secret)

    def _read_body(self, env):
        """The body, read up to the limit and no further (a chunked body has no
        Content-Length to check first): (body, None) or (None, a 413 answer).

        Kept in the request's environ: Odoo re-runs this handler after a
        serialization failure, and the stream can be read only once."""
        environ = request.httprequest.environ
        if BODY_KEY in environ:
            return environ[BODY_KEY], None
        limit = int(
            env["ir.config_parameter"].get_param(
                "pico_mes.webhook_max_bytes", DEFAULT_MAX_BYTES
            )
        )
        if (request.httprequest.content_length or 0) > limit:
            return None, _too_large(limit)
        body = _read_at_most(_input_stream(request.httprequest), limit + 1)
        if len(body) > limit:
            return None, _too_large(limit)
        environ[BODY_KEY] = body
        return body, None


def _input_stream(httprequest):
    """werkzeug's input stream: Odoo's request wrapper does not expose it (for a
    chunked body, the de-chunked socket; else limited to Content-Length)."""
    return httprequest._HTTPRequest__wrapped.stream  # pylint: disable=protected-access


def _read_at_most(stream, size):
    chunks, left = [], size
    while left > 0:
        chunk = stream.read(min(left, READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _too_large(limit):
    """413, and the connection closed: the rest of the body is never read."""
    response = _answer(413, error=f"body larger than {limit} bytes")
    response.headers["Connection"] = "close"
    return response


def _answer(status, **payload):
    return request.make_json_response(payload, status=status)
