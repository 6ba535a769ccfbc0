"""Fields the connector owns: users never write them, the engine writes them as
superuser.

``readonly=True`` is for the form only: over RPC, ``write``, ``create``, ``copy``
and ``default_<field>`` context keys reach any field. Models declare the fields
their engine sets and call :func:`check_engine_fields` from ``write`` and
``create``. The engine writes them through ``records.sudo()``, which no RPC
caller can obtain (methods starting with ``_`` cannot be called remotely), so
neither a context key nor a crafted request opens the way.
"""

from odoo.exceptions import AccessError

MANAGER_GROUP = "pico_mes.group_pico_manager"


def check_engine_fields(records, owned, field_names):
    """Refuse values for ``owned`` fields unless the engine (superuser) writes."""
    if records.env.su:
        return
    touched = sorted(owned.intersection(field_names))
    if touched:
        raise AccessError(
            records.env._(
                "%(model)s: %(fields)s can be set by the PICO connector only.",
                fields=", ".join(records._fields[name].string for name in touched),
                model=records._description,
            )
        )


def without_engine_defaults(records, owned):
    """``records`` in a context without ``default_<field>`` keys for ``owned``."""
    context = records.env.context
    keys = {f"default_{name}" for name in owned}
    if records.env.su or keys.isdisjoint(context):
        return records
    # the keys must go, not turn False: a False default is still a value
    return records.with_context(  # pylint: disable=context-overridden
        {key: value for key, value in context.items() if key not in keys}
    )


def check_pico_manager(env, message):
    """Refuse anyone but PICO Managers (and the engine itself)."""
    if not (env.su or env.user.has_group(MANAGER_GROUP)):
        raise AccessError(message)
