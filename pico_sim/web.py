"""The simulator's web page: what a person clicks to play the PICO shop floor.

Server-rendered HTML with plain forms; each form posts to ``/ui/<action>``, which
acts and redirects back to ``/`` with a one-line message.
"""

import time
from html import escape
from urllib.parse import urlencode

from .store import CANCELLED, OPEN, STARTED
from .times import utc_now

MAX_OPERATIONS_SHOWN = 200
MAX_COMPLETIONS_SHOWN = 50
MAX_DELIVERIES_SHOWN = 20

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#243b53;color:#fff;padding:14px 24px}
header h1{font-size:19px;margin:0 0 4px} header code{color:#bcccdc}
main{padding:8px 24px 32px;max-width:1280px}
section{background:#fff;border:1px solid #d9e2ec;border-radius:6px;margin:16px 0;
padding:10px 16px}
h2{font-size:15px;margin:6px 0 10px} h2 small{color:#829ab1;font-weight:400}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef2f7;
  vertical-align:top}
th{font-size:12px;color:#627d98;text-transform:uppercase;letter-spacing:.03em}
form{display:inline;margin:0 4px 0 0}
button{font:inherit;padding:2px 10px;border:1px solid #9fb3c8;border-radius:4px;
background:#f0f4f8;cursor:pointer} button:hover{background:#d9e2ec}
button.go{background:#2f8132;border-color:#2f8132;color:#fff}
button.stop{color:#ab091e;border-color:#e8a0a8;background:#fff}
input,select{font:inherit;padding:1px 4px;border:1px solid #bcccdc;border-radius:4px}
.badge{padding:1px 8px;border-radius:10px;font-size:12px;background:#e4e7eb}
.open{background:#dceefb}.started{background:#fff3c4}.completed,.delivered{background:#e3f9e5}
.cancelled,.abandoned{background:#ffe3e3}.pending{background:#fff3c4}
.flash{padding:8px 12px;border-radius:4px;background:#e3f9e5;margin-top:16px}
.flash.error{background:#ffe3e3} .muted{color:#829ab1} code{font-size:13px}
"""


def render_page(sim, query: dict[str, list[str]]) -> str:
    """The whole page; ``query`` may carry ``flash``, ``level`` and ``refresh``."""
    refresh = query.get("refresh", [""])[-1]
    head = (
        f'<meta http-equiv="refresh" content="{int(refresh)}">'
        if refresh.isdigit()
        else ""
    )
    toggle = (
        '<a href="/" style="color:#bcccdc">stop auto-refresh</a>'
        if head
        else '<a href="/?refresh=3" style="color:#bcccdc">auto-refresh</a>'
    )
    sections = [
        _orders_section(sim),
        _completions_section(sim),
        _operations_section(sim),
        _subscriptions_section(sim),
        _deliveries_section(sim),
        _faults_section(sim),
    ]
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>PICO MES simulator</title>{head}<style>{_CSS}</style></head><body>"
        "<header><h1>PICO MES simulator</h1>"
        f"GraphQL endpoint <code>{escape(sim.url)}</code> &middot; "
        f"{sim.stats()['graphqlRequests']} GraphQL requests &middot; times in UTC "
        f"&middot; {toggle}</header>"
        f"<main>{_flash(query)}{''.join(sections)}</main></body></html>"
    )


def handle_form(sim, action: str, form: dict[str, str]) -> str:
    """Run one ``/ui/<action>`` form; return where to redirect."""
    handler = _ACTIONS.get(action)
    if handler is None:
        return _back(f"unknown action {action!r}", "error")
    try:
        return _back(handler(sim, form))
    except (KeyError, ValueError) as error:
        return _back(str(error), "error")


# -- actions ----------------------------------------------------------------------


def _key(form: dict) -> tuple[str, str, int]:
    return form["external_order_id"], form["operation_id"], int(form["order_index"])


def _start(sim, form) -> str:
    sim.start_unit(*_key(form))
    return f"Started {_unit_label(*_key(form))}."


def _complete(sim, form) -> str:
    """The unit's remaining processes and the unit, at the floor's pace."""
    now = utc_now().replace(microsecond=0)
    events = sim.floor.advance_unit(
        _key(form),
        sim.work,
        end=now,
        now=now,
        produced_serial=form.get("serial") or None,
    )
    serial = events[-1]["endState"]["producedSerial"]
    return f"Completed {_unit_label(*_key(form))}: serial {serial}."


def _complete_wip(sim, form) -> str:
    event = sim.complete_wip(*_key(form), form["wip_operation_id"])
    return f"WIP {event['operation']['name']} done for {_unit_label(*_key(form))}."


def _cancel(sim, form) -> str:
    sim.cancel_unit(*_key(form))
    return f"Cancelled {_unit_label(*_key(form))}."


def _deliver(sim, _form) -> str:
    results = sim.deliver_pending(now=True)
    ok = sum(1 for status, _ in results if status and 200 <= status < 300)
    return f"Delivered {ok} of {len(results)} webhook POSTs."


def _clear_faults(sim, _form) -> str:
    sim.clear_faults()
    sim.set_delivery_faults()
    return "Faults cleared."


_ACTIONS = {
    "start": _start,
    "complete": _complete,
    "complete_wip": _complete_wip,
    "cancel": _cancel,
    "deliver": _deliver,
    "clear_faults": _clear_faults,
}


def _back(message: str, level: str = "ok") -> str:
    return "/?" + urlencode({"flash": message, "level": level})


# -- sections ---------------------------------------------------------------------


def _orders_section(sim) -> str:
    orders = sim.orders()
    active = [order for order in orders if order["state"] in (OPEN, STARTED)]
    cancelled = [order for order in orders if order["state"] == CANCELLED]
    names = {op["id"]: op["name"] for op in sim.operations()}
    rows = [_order_row(order, names, _wip_choices(sim, order)) for order in active]
    extra = (
        _table(
            ["External order", "Unit", "Operation", "Cancelled at"],
            [
                [
                    escape(o["externalOrderId"]),
                    f"#{o['orderIndex']}",
                    _operation_label(o["operationId"], names),
                    _time(o["updatedAt"]),
                ]
                for o in cancelled
            ],
        )
        if cancelled
        else ""
    )
    return _section(
        "Orders to build",
        f"{len(active)} open or started",
        _table(["External order", "Unit", "Operation", "State", "Saved", "Build"], rows)
        + (
            f"<h2>Cancelled <small>{len(cancelled)}</small></h2>{extra}"
            if extra
            else ""
        ),
    )


def _wip_choices(sim, order: dict) -> list[str]:
    """Operations that can report work in progress on an order: the children
    linked to its operation, else the processes (operations with no part number)."""
    children = [
        link["subId"]
        for link in sim.store.sub_operations()
        if link["parentId"] == order["operationId"]
    ]
    if children:
        return children
    return [op["id"] for op in sim.operations() if not op["externalId"]][:50]


def _order_row(order: dict, names: dict, wip_choices: list[str]) -> list[str]:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(str(order[key]))}">'
        for name, key in (
            ("external_order_id", "externalOrderId"),
            ("operation_id", "operationId"),
            ("order_index", "orderIndex"),
        )
    )
    is_open = order["state"] == OPEN
    wip_options = "".join(
        f'<option value="{escape(op_id)}">{escape(names.get(op_id, op_id))}</option>'
        for op_id in wip_choices
    )
    actions = [
        _form("start", hidden, '<button class="go">Start</button>') if is_open else "",
        _form(
            "complete",
            hidden,
            '<input name="serial" placeholder="serial (auto)" size="12">'
            '<button class="go">Complete</button>',
        ),
        _form("cancel", hidden, '<button class="stop">Cancel</button>')
        if is_open
        else "",
        _form(
            "complete_wip",
            hidden,
            f'<select name="wip_operation_id">{wip_options}</select>'
            "<button>WIP done</button>",
        )
        if wip_options
        else "",
    ]
    return [
        escape(order["externalOrderId"]),
        f"#{order['orderIndex']}",
        _operation_label(order["operationId"], names),
        _badge(order["state"]),
        _time(order["createdAt"]),
        "".join(actions),
    ]


def _completions_section(sim) -> str:
    completions = sim.completions()
    roots = {
        (o["externalOrderId"], o["operationId"], o["orderIndex"]) for o in sim.orders()
    }
    rows = []
    for event in reversed(completions[-MAX_COMPLETIONS_SHOWN:]):
        operation = event["operation"]
        is_root = (
            event["externalOrderId"],
            operation["id"],
            event["orderIndex"],
        ) in roots
        consumed = ", ".join(
            f"{escape(str(item['externalId'] or item['id']))}: "
            f"<code>{escape(str(item['value']))}</code>"
            for item in event["operationSummary"]["consumedSerials"]
        )
        state = event["endState"] or {}
        rows.append(
            [
                _time(event["at"]),
                escape(event["externalOrderId"]),
                f"#{event['orderIndex']}",
                escape(operation["name"])
                + ("" if is_root else ' <span class="badge">WIP</span>'),
                f"<code>{escape(str(state.get('producedSerial') or '—'))}</code>",
                consumed or '<span class="muted">—</span>',
                escape(f"{state['station']['name']} / {state['operator']['name']}"),
            ]
        )
    return _section(
        "Completed units",
        f"{len(completions)} completion event{'' if len(completions) == 1 else 's'}",
        _table(
            [
                "At",
                "External order",
                "Unit",
                "Operation",
                "Produced serial",
                "Consumed serials",
                "Station / operator",
            ],
            rows,
        ),
    )


def _operations_section(sim) -> str:
    operations = sim.operations()
    rows = [
        [
            f"<code>{escape(op['id'])}</code>",
            escape(op["externalId"] or "—"),
            escape(op["externalRevision"] or ""),
            escape(op["name"]),
            ", ".join(
                escape(a["externalId"] or a["id"]) for a in op["consumedSerials"]
            ),
            _time(op["updatedAt"]),
            _badge("cancelled", "archived") if op["archivedAt"] else "",
        ]
        for op in operations[:MAX_OPERATIONS_SHOWN]
    ]
    hidden = len(operations) - len(rows)
    note = f'<p class="muted">and {hidden} more</p>' if hidden > 0 else ""
    return _section(
        "Operations",
        f"{len(operations)} products and processes",
        _table(["Id", "Part number", "Rev", "Name", "Consumes", "Updated", ""], rows)
        + note,
    )


def _subscriptions_section(sim) -> str:
    rows = [
        [
            escape(sub["subscriptionID"]),
            escape(sub["streamField"]),
            f"<code>{escape(sub['webhookUrl'])}</code>",
            escape(", ".join(sub["webhookHeaders"])) or '<span class="muted">—</span>',
            _time(sub["updatedAt"]),
        ]
        for sub in sim.subscriptions()
    ]
    return _section(
        "Webhook subscriptions",
        f"{len(rows)} registered",
        _table(["Subscription", "Stream", "URL", "Headers", "Updated"], rows),
    )


def _deliveries_section(sim) -> str:
    deliveries = sim.deliveries(MAX_DELIVERIES_SHOWN)
    rows = [
        [
            str(d["id"]),
            escape(d["subscriptionID"]),
            escape(next(iter(d["body"]["data"]))),
            _badge(d["state"]),
            str(d["attempts"]),
            _delivery_result(d),
            _time(d["createdAt"]),
        ]
        for d in reversed(deliveries)
    ]
    button = _form("deliver", "", "<button>Deliver pending now</button>")
    return _section(
        "Recent webhook deliveries",
        f"latest {MAX_DELIVERIES_SHOWN}",
        _table(
            [
                "#",
                "Subscription",
                "Stream",
                "State",
                "Attempts",
                "Last result",
                "Created",
            ],
            rows,
        )
        + f"<p>{button}</p>",
    )


def _faults_section(sim) -> str:
    faults = sim.faults.current()
    active = {k: v for k, v in faults.items() if v not in (None, False, 0, 0.0)}
    delivery = {k: v for k, v in vars(sim.webhooks.faults).items() if v}
    text = escape(", ".join(f"{k}={v}" for k, v in {**active, **delivery}.items()))
    button = _form("clear_faults", "", "<button>Clear faults</button>")
    return _section(
        "Fault injection",
        "set through /control/faults",
        f"<p>{text or 'none'} {button if text else ''}</p>",
    )


def _delivery_result(delivery: dict) -> str:
    """Last HTTP status or error (shortened, full text on hover), and when pending
    the time until the next attempt."""
    if delivery["attempts"] == 0:
        return '<span class="muted">not sent yet</span>'
    status = delivery["lastStatus"]
    text = f"HTTP {status}" if status else delivery["lastError"] or ""
    result = f'<span title="{escape(text)}">{escape(text[:60])}</span>'
    if delivery["state"] == "pending":
        wait = max(0.0, delivery["nextAttemptAt"] - time.time())
        result += f' <span class="muted">&middot; retry in {wait:.0f} s</span>'
    return result


# -- HTML helpers -----------------------------------------------------------------


def _section(title: str, subtitle: str, body: str) -> str:
    return (
        f"<section><h2>{title} <small>{escape(subtitle)}</small></h2>{body}</section>"
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return '<p class="muted">Nothing yet.</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _form(action: str, hidden: str, controls: str) -> str:
    return f'<form method="post" action="/ui/{action}">{hidden}{controls}</form>'


def _badge(css_class: str, text: str | None = None) -> str:
    return f'<span class="badge {escape(css_class)}">{escape(text or css_class)}</span>'


def _flash(query: dict[str, list[str]]) -> str:
    message = query.get("flash", [""])[-1]
    if not message:
        return ""
    level = "error" if query.get("level", [""])[-1] == "error" else "ok"
    return f'<div class="flash {level}">{escape(message)}</div>'


def _operation_label(operation_id: str, names: dict) -> str:
    name = names.get(operation_id, operation_id)
    return f'{escape(name)} <span class="muted">{escape(operation_id)}</span>'


def _unit_label(external_order_id: str, operation_id: str, order_index: int) -> str:
    return f"{external_order_id} #{order_index} ({operation_id})"


def _time(value: str | None) -> str:
    """Show a stored UTC time compactly, e.g. 2025-03-04 16:22:10."""
    return escape(value[:19].replace("T", " ")) if value else ""
