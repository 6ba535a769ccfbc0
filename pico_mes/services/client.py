"""A small GraphQL-over-HTTP client for PICO with failure classification.

Retryable: the network failed (connection refused or dropped, timeout), or PICO
answered HTTP 5xx or 429. Permanent: any other HTTP status, GraphQL ``errors`` in a
200 answer, or an answer that is not GraphQL. The token never appears in a
message, and never leaves for another address: a redirect is not followed
(requests would forward the token header to any host).

Use it as a context manager: ``with company._pico_client() as client: ...``.
"""

import requests

from ..exceptions import (  # noqa: F401 -- re-exported for callers
    PicoError,
    PicoGraphQLError,
    PicoHttpError,
    PicoResponseError,
    PicoTransportError,
)

TOKEN_HEADER = "x-pico-api-org"
DEFAULT_TIMEOUT = (5, 30)  # (connect, read) seconds


class PicoClient:
    """One PICO instance: its GraphQL URL, its token, one pooled HTTP session."""

    def __init__(self, url, token, timeout=DEFAULT_TIMEOUT):
        if not url:
            raise PicoResponseError("No PICO API URL is configured.")
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {"Content-Type": "application/json", TOKEN_HEADER: token or ""}
        )

    def execute(self, document, variables=None):
        """Run a document and return its ``data``; any GraphQL error raises."""
        data, errors = self.execute_partial(document, variables)
        if errors:
            raise PicoGraphQLError(errors, data)
        return data

    def execute_partial(self, document, variables=None):
        """Run a document and return ``(data, errors)``.

        For batched mutations: the aliases answered before a failing one took
        effect; the caller sorts them out (see ``pico.outbox``).
        Transport, HTTP and shape failures raise.
        """
        body = {"query": document, "variables": variables or {}}
        try:
            response = self.session.post(
                self.url, json=body, timeout=self.timeout, allow_redirects=False
            )
        except requests.Timeout as exc:
            raise PicoTransportError(
                f"PICO did not answer in time ({exc.__class__.__name__})."
            ) from None
        except requests.RequestException as exc:
            raise PicoTransportError(
                f"PICO is unreachable ({exc.__class__.__name__})."
            ) from None
        if response.status_code == 401 or response.status_code == 403:
            raise PicoHttpError(response.status_code, "the API token was refused")
        if response.is_redirect:
            raise PicoHttpError(
                response.status_code,
                "PICO redirected the request; set the API URL to the final address",
            )
        if response.status_code != 200:
            raise PicoHttpError(response.status_code, response.reason or "")
        return self._decode(response)

    @staticmethod
    def _decode(response):
        try:
            payload = response.json()
        except ValueError:
            raise PicoResponseError(
                "PICO answered with something that is not JSON."
            ) from None
        if not isinstance(payload, dict) or not (
            "data" in payload or "errors" in payload
        ):
            raise PicoResponseError("PICO's answer is not a GraphQL response.")
        errors = payload.get("errors") or []
        if not isinstance(errors, list):
            raise PicoResponseError("PICO's answer carries malformed errors.")
        return payload.get("data") or {}, errors

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *_exc_info):
        self.close()
