"""A write conflict on a burst's MO lock (someone saved the MO after the burst's
transaction began): retried as on the one-unit path, without an ERROR line,
and the rest of the run goes on, on the prefork server."""

import threading

import psycopg2

from .stack import (
    DB,
    SENSOR_OP,
    Figures,
    completion,
    open_productions,
    wait_units_sent,
    wait_until,
)


def waiting_for_lock(stack):
    """Odoo backends waiting for a row lock on ``mrp_production``."""
    return int(
        stack.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = :'db'"
            " AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE OF p%'",
            db=DB,
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
