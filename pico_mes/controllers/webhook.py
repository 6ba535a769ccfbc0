"""PICO's webhook: authenticate, bound, parse, persist, answer; then process."""

import json
import logging

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import SUPERUSER_ID, api, http
from odoo.http import request

from ..models.res_company import SECRET_HEADER, WEBHOOK_ROUTE
from ..services.payload import parse_batch

_logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1024 * 1024


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
        Message = env["pico.message"].with_company(company)
        messages, duplicates = Message._receive(company, events)
        request.env.cr.commit()  # pylint: disable=invalid-commit
        messages._process()  # what cannot be processed now stays for the cron
        counts = {"accepted": len(messages), "duplicates": duplicates}
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
        limit = int(
            env["ir.config_parameter"].get_param(
                "pico_mes.webhook_max_bytes", DEFAULT_MAX_BYTES
            )
        )
        too_large = _answer(413, error=f"body larger than {limit} bytes")
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > limit:
            return None, too_large
        httprequest.max_content_length = limit
        try:
            body = httprequest.get_data()  # cached: Odoo may re-run this handler
        except RequestEntityTooLarge:
            return None, too_large
        return (None, too_large) if len(body) > limit else (body, None)


def _answer(status, **payload):
    return request.make_json_response(payload, status=status)
