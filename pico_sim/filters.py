"""Hasura-style ``where:`` filters evaluated on plain dict records.

Semantics follow SQL, as Hasura does: a comparison on a null field is false, an
operator given as null is ignored, ``_and: []`` is true and ``_or: []`` is false.
Times are compared as instants: stored times and operands share one canonical
UTC format (see ``times``), so their text order is their time order.
"""

import operator
from collections.abc import Callable, Iterable
from datetime import datetime

from .times import format_time

# The schema decides which fields a filter may name; a spec only lists the object
# fields whose clause is a nested filter (e.g. a completion's ``operation``).
FilterSpec = dict[str, "FilterSpec"]

COMPLETION_FILTER: FilterSpec = {"operation": {}}

_OPERATORS: dict[str, Callable[[object, object], bool]] = {
    "_eq": operator.eq,
    "_neq": operator.ne,
    "_in": lambda value, options: value in options,
    "_nin": lambda value, options: value not in options,
    "_gt": operator.gt,
    "_gte": operator.ge,
    "_lt": operator.lt,
    "_lte": operator.le,
}


def filter_records(
    records: Iterable[dict], where: dict | None, spec: FilterSpec | None = None
) -> list[dict]:
    if not where:
        return list(records)
    return [record for record in records if matches(record, where, spec or {})]


def matches(record: dict, where: dict, spec: FilterSpec) -> bool:
    return all(
        _matches_clause(record, key, clause, spec)
        for key, clause in where.items()
        if clause is not None
    )


def _matches_clause(record: dict, key: str, clause, spec: FilterSpec) -> bool:
    if key == "_and":
        return all(matches(record, sub, spec) for sub in clause)
    if key == "_or":
        return any(matches(record, sub, spec) for sub in clause)
    value = record.get(key)
    if key in spec:
        return value is not None and matches(value, clause, spec[key])
    return _compare(value, clause)


def _compare(value, comparison: dict) -> bool:
    for name, operand in comparison.items():
        if operand is None:
            continue
        if value is None:
            return False
        if isinstance(operand, datetime):
            operand = format_time(operand)
        if not _OPERATORS[name](value, operand):
            return False
    return True
