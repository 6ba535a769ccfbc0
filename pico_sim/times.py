"""RFC 3339 timestamps as the simulator stores and serves them.

Times are kept as strings with millisecond precision and a ``Z`` suffix, e.g.
``2025-03-04T16:22:10.123Z``: sortable as text, and precise enough that a client
polling with ``at: {_gt: <last seen>}`` does not skip events of the same second.
"""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """Render an aware datetime (naive ones are taken as UTC) as RFC 3339 UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return format_time(utc_now())


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 date-time with offset; raise ValueError otherwise."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError(f"RFC 3339 date-time needs an offset: {text!r}")
    return moment


def to_iso(value: str | datetime) -> str:
    """Normalise a datetime or an RFC 3339 string to the stored format."""
    return format_time(value if isinstance(value, datetime) else parse_time(value))
