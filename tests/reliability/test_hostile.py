"""Case 5, hostile input: malformed, oversized, wrongly typed and hostile bodies
and headers posted to the prefork server. Never a 5xx, never a stock change,
never the secret echoed (in the answer or the server log)."""

import json
import time

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .stack import SECRET_HEADER, Figures, completion, size

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "\udfff",
        "😀" * 500,
        "A" * 5000,
        "B" * 300_000,
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "%s%s%n",
        "../../etc/passwd",
        "\u202e",
        "x|y|z",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=50),
    HOSTILE_TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=20), children, max_size=4),
    ),
    max_leaves=20,
)
FIELDS = (
    "externalOrderId",
    "operation",
    "orderIndex",
    "at",
    "endState",
    "operationSummary",
    "reservedSerialNumber",
)


@st.composite
def mangled_completion(draw):
    """A completion of an order Odoo never made, with fields replaced or dropped."""
    ref = draw(st.one_of(st.just("HOSTILE/MO/1"), HOSTILE_TEXT))
    body = completion(ref, draw(st.sampled_from(["op-desk-lamp", "op-sensor-kit"])), 0)
    event = body["data"]["operationOrderCompletesStream"]
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3, unique=True)):
        if draw(st.booleans()):
            event.pop(name, None)
        else:
            event[name] = draw(JSON)
    shape = draw(st.sampled_from(["webhook", "bare", "list", "list-one-bad"]))
    if shape == "bare":
        return event
    if shape == "list":
        return [body, event]
    if shape == "list-one-bad":
        return [completion("HOSTILE/MO/2", "op-sensor-kit", 1), draw(JSON)]
    return body


def nested(depth):
    return "[" * depth + "]" * depth


RAW_BODIES = st.one_of(
    st.binary(max_size=2000),
    st.sampled_from(
        [
            b"",
            b"null",
            b"[]",
            b"{}",
            b'{"data": null}',
            b'"\\ud800"',
            b'{"externalOrderId": "\\u0000"}',
            b"\xff\xfe\x00",
            nested(100_000).encode(),
            b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
            b"[" + b"1," * 600_000 + b"1]",  # over the 1 MB limit
        ]
    ),
    st.integers(min_value=1, max_value=5000).map(lambda n: nested(n).encode()),
)


@st.composite
def request_parts(draw):
    """(headers, body bytes): mostly the right secret, so that parsing is reached."""
    secret = draw(
        st.sampled_from(["right", "right", "right", "wrong", "none", "non-ascii"])
    )
    if draw(st.booleans()):
        body = json.dumps(draw(mangled_completion())).encode()
    elif draw(st.booleans()):
        body = json.dumps(draw(JSON)).encode()
    else:
        body = draw(RAW_BODIES)
    content_type = draw(
        st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded"]
        )
    )
    return secret, content_type, body


def test_hostile_input_is_refused_cleanly(stack, figures):
    before = stock_snapshot(stack)
    log_offset = stack.log_offset()
    seen = Figures("hostile", extra={"statuses": {}})
    session = requests.Session()
    start = time.perf_counter()

    @settings(
        max_examples=size("HOSTILE_EXAMPLES"),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(request_parts())
    def post_hostile(parts):
        secret, content_type, body = parts
        headers = {"Content-Type": content_type}
        if secret == "right":
            headers[SECRET_HEADER] = stack.secret
        elif secret == "wrong":
            headers[SECRET_HEADER] = stack.secret[::-1]
        elif secret == "non-ascii":
            headers[SECRET_HEADER] = ("é" + stack.secret).encode()
        response = session.post(
            stack.webhook_url, data=body, headers=headers, timeout=120
        )
        statuses = seen.extra["statuses"]
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        seen.sent += 1
        if response.status_code == 200:
            answer = response.json()
            seen.accepted += answer.get("accepted", 0)
            seen.duplicates += answer.get("duplicates", 0)
        assert response.status_code < 500, (response.status_code, body[:300])
        assert stack.secret not in response.text
        assert "Traceback" not in response.text

    try:
        post_hostile()
    finally:
        seen.seconds = time.perf_counter() - start
        figures(seen)
    stack.inbound_settled(timeout=300)
    assert stock_snapshot(stack) == before, "hostile input changed stock"
    log = stack.config.log("odoo").read_bytes()[log_offset:].decode(errors="replace")
    assert stack.secret not in log, "the webhook secret is in the server log"


def stock_snapshot(stack):
    """Every quant's quantity, and the number of done stock moves."""
    quants = stack.rpc.search_read(
        "stock.quant", [], ["product_id", "lot_id", "location_id", "quantity"]
    )
    done_moves = stack.rpc.call("stock.move", "search_count", [("state", "=", "done")])
    return done_moves, sorted(
        (q["product_id"][0], q["lot_id"] and q["lot_id"][0], q["location_id"][0],
         q["quantity"])
        for q in quants
    )  # fmt: skip
