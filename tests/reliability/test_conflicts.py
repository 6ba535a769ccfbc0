"""Write conflicts on the prefork server, made on purpose by a transaction that
holds a row until the webhook's transaction waits for it.

* On a burst's MO lock (someone saved the MO after the burst's transaction
  began): retried as on the one-unit path, without an ERROR line, and the rest
  of the run goes on.
* On the INSERT of a delivery whose twin is not committed yet: Odoo re-runs the
  whole request, which reads its body again (the stream is read once: kept)."""

import json
import threading

import psycopg2

from .stack import (
    DB,
    SENSOR_OP,
    Figures,
    completion,
    event_key,
    open_productions,
    wait_units_sent,
    wait_until,
)


def waiting_for_lock(stack, query="%FOR UPDATE OF p%"):
    """Odoo backends waiting for a lock, in a query like ``query``."""
    return int(
        stack.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :'db'"
            " AND wait_event_type = 'Lock' AND query LIKE :'pattern'",
            db=DB,
            pattern=query,
        )
    )


def test_a_conflict_on_the_burst_lock_is_retried_quietly(stack, figures):
    (first, _second), refs = stack.confirmed_mos({"PICO-SENSOR": [3, 2]})
    wait_units_sent(stack, [ref for ref, _c, _q in refs])
    body = [completion(ref, SENSOR_OP, i) for ref, _c, qty in refs for i in range(qty)]
    log_offset = stack.log_offset()

    # a user's transaction holds the first MO, as a save from the MO form does
    holder = psycopg2.connect(dbname=DB)
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "UPDATE mrp_production SET write_date = write_date WHERE id = %s",
                (first,),
            )
        answers = []
        sender = threading.Thread(target=lambda: answers.append(stack.post(body)))
        sender.start()
        wait_until(lambda: waiting_for_lock(stack), 120, "the burst waits on the MO")
        holder.commit()  # the burst's snapshot is older: a serialization failure
    finally:
        holder.close()
    sender.join(300)

    ((status, answer),) = answers
    states = {
        m["state"]
        for m in stack.rpc.search_read(
            "pico.message",
            [("direction", "=", "in"), ("order_ref", "in", [r for r, _c, _q in refs])],
            ["state"],
        )
    }
    log = stack.log_lines_since(log_offset)
    result = Figures(
        "burst lock conflict",
        sent=len(body),
        accepted=answer.get("accepted", 0),
        duplicates=answer.get("duplicates", 0),
        applied=len(body) if states == {"done"} else 0,
        extra={"request retried by Odoo": sum("tries left" in line for line in log)},
    )
    figures(result)
    assert status == 200, answer
    # the conflict was retried inside the run, not by re-running the request
    assert answer == {"accepted": len(body), "duplicates": 0}, answer
    assert states == {"done"}, states
    assert not open_productions(stack, [ref for ref, _c, _q in refs])
    assert not [line for line in log if " ERROR " in line or "tries left" in line]


def test_a_request_re_run_after_a_conflict_reads_its_body_again(stack):
    ((ref, _code, _qty),) = stack.confirmed_mos({"PICO-SENSOR": [1]})[1]
    wait_units_sent(stack, [ref])
    body = completion(ref, SENSOR_OP, 0)
    event = body["data"]["operationOrderCompletesStream"]
    (company,) = stack.rpc.search_read(
        "res.company", [("pico_enabled", "=", True)], ["id"]
    )
    log_offset = stack.log_offset()
    # PICO delivered it twice at once: the other worker has stored it, and not
    # committed yet
    holder = psycopg2.connect(dbname=DB)
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "INSERT INTO pico_message (company_id, direction, kind, dedup_key,"
                " order_ref, payload, state, attempts, next_attempt_at)"
                " VALUES (%s, 'in', 'completion', %s, %s, %s, 'pending', 0,"
                " now() at time zone 'utc')",
                (
                    company["id"],
                    event_key(body),
                    ref,
                    json.dumps(event, sort_keys=True),
                ),
            )
        answers = []
        sender = threading.Thread(target=lambda: answers.append(stack.post(body)))
        sender.start()
        wait_until(
            lambda: waiting_for_lock(stack, "%INSERT INTO pico_message%"),
            120,
            "the delivery waits on its twin",
        )
        holder.commit()  # a serialization failure: Odoo re-runs the request
    finally:
        holder.close()
    sender.join(300)
    ((status, answer),) = answers
    log = stack.log_lines_since(log_offset)
    assert any("tries left" in line for line in log), "the request was not re-run"
    assert status == 200, answer
    assert answer == {"accepted": 0, "duplicates": 1}, answer
    stack.trigger_cron("pico_mes.ir_cron_pico_process")
    (message,) = stack.rpc.search_read(
        "pico.message", [("dedup_key", "=", event_key(body))], ["state"]
    )
    assert message["state"] == "done"
    assert not open_productions(stack, [ref])
    assert not [line for line in log if " ERROR " in line]
