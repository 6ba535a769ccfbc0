"""Write conflicts between concurrent transactions: expected, retried by design,
and kept out of the ERROR log that operators alert on."""

import logging
import threading
from contextlib import contextmanager

from psycopg2 import errorcodes

CONFLICT_CODES = {
    errorcodes.SERIALIZATION_FAILURE,
    errorcodes.DEADLOCK_DETECTED,
    errorcodes.LOCK_NOT_AVAILABLE,
}


class _MuteExpectedConflicts(logging.Filter):
    """Drop sql_db's "bad query" ERROR for a write conflict of this thread: the
    conflict is expected and retried by design, and operators alert on ERROR."""

    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record):
        if threading.get_ident() != self.thread:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        exc = args[-1] if args else None
        return getattr(exc, "pgcode", None) not in CONFLICT_CODES


@contextmanager
def expected_conflicts():
    """While inside, this thread's expected write conflicts log no ERROR line."""
    sql_logger = logging.getLogger("odoo.sql_db")
    muted = _MuteExpectedConflicts()
    sql_logger.addFilter(muted)
    try:
        yield
    finally:
        sql_logger.removeFilter(muted)


def insert_new(model, vals_list, key):
    """INSERT rows another worker may insert at the same moment (a sync on one
    node, PICO's webhook on another): ``ON CONFLICT (key) DO NOTHING`` turns a
    row committed after this transaction's snapshot into a serialization
    failure, an expected conflict that the caller's transaction retries, instead
    of a unique violation. ``vals_list``: dicts of column values, same keys.
    Returns {key values: new id}."""
    if not vals_list:
        return {}
    env = model.env
    columns = list(vals_list[0])
    audit = ("create_uid", "create_date", "write_uid", "write_date")
    now = env.cr.now()
    booleans = {c for c in columns if model._fields[c].type == "boolean"}
    rows = [
        [None if vals[c] is False and c not in booleans else vals[c] for c in columns]
        + [env.uid, now, env.uid, now]
        for vals in vals_list
    ]
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(rows[0])) + ")"] * len(rows))
    model.flush_model()
    with expected_conflicts():
        env.cr.execute(
            f"""INSERT INTO {model._table} ({", ".join(columns + list(audit))})
                VALUES {placeholders}
                ON CONFLICT ({", ".join(key)}) DO NOTHING
                RETURNING id, {", ".join(key)}""",  # noqa: S608 -- code's names only
            [value for row in rows for value in row],
        )
        ids = {tuple(row[1:]): row[0] for row in env.cr.fetchall()}
    env.invalidate_all()  # caches of the new rows' relations (one2many) are stale
    return ids
