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
