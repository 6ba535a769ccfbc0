"""The web page and its buttons."""

import re
from urllib.parse import unquote_plus

import requests

from .helpers import CANCEL, save_order


def page(sim) -> str:
    response = requests.get(sim.base_url + "/", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    return response.text


def press(sim, action: str, **form) -> str:
    """Post a page form; return where it redirects, i.e. the page and its message."""
    response = requests.post(
        f"{sim.base_url}/ui/{action}", data=form, allow_redirects=False, timeout=5
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/?")
    return unquote_plus(response.headers["Location"])


def unit(index=0) -> dict:
    return {
        "external_order_id": "WH/MO/00001",
        "operation_id": "op-desk-lamp",
        "order_index": str(index),
    }


def test_page_lists_operations_and_needs_no_token(sim):
    html = page(sim)
    for text in ("Desk Lamp", "PICO-LAMP", "PICO-LED-DRIVER", "Soldering", sim.url):
        assert text in html
    assert "<script" not in html


def test_start_complete_and_cancel_buttons(sim, gql):
    save_order(gql, "WH/MO/00001", "op-desk-lamp", 0)
    save_order(gql, "WH/MO/00001", "op-desk-lamp", 1)
    html = page(sim)
    assert html.count('action="/ui/start"') == 2
    assert html.count('action="/ui/cancel"') == 2

    assert "Started WH/MO/00001 #0" in press(sim, "start", **unit(0))
    assert "started" in page(sim)
    flash = press(sim, "complete", **unit(0), serial="LAMP-42")
    assert "serial LAMP-42" in flash
    assert "Cancelled" in press(sim, "cancel", **unit(1))
    assert [o["state"] for o in sim.orders()] == ["completed", "cancelled"]

    html = page(sim)
    assert "LAMP-42" in html
    assert re.search(r"PICO-LED-DRIVER: <code>PICO-LED-DRIVER-\d+</code>", html)


def test_complete_without_serial_generates_one(sim, gql):
    save_order(gql, "WH/MO/00001", "op-desk-lamp")
    assert "serial SN-PICO-LAMP-00001" in press(sim, "complete", **unit(), serial="")


def test_wip_button(sim, gql):
    save_order(gql, "WH/MO/00001", "op-desk-lamp")
    assert '<option value="op-proc-solder">Soldering</option>' in page(sim)
    flash = press(sim, "complete_wip", **unit(), wip_operation_id="op-proc-solder")
    assert "WIP Soldering done" in flash
    assert "WIP</span>" in page(sim)


def test_errors_come_back_as_messages(sim, gql):
    save_order(gql, "WH/MO/00001", "op-desk-lamp")
    gql(
        CANCEL,
        {
            "input": {
                "externalOrderId": "WH/MO/00001",
                "operationId": "op-desk-lamp",
                "cancelAll": True,
            }
        },
    )
    flash = press(sim, "complete", **unit())
    assert "level=error" in flash and "cancelled" in flash
    assert "level=error" in press(sim, "explode")
    html = requests.get(
        sim.base_url + "/?flash=Boom%20%3Cb%3E&level=error", timeout=5
    ).text
    assert '<div class="flash error">Boom &lt;b&gt;</div>' in html


def test_deliver_and_clear_faults_buttons(sim):
    sim.set_faults(latency=0.01)
    assert "latency=0.01" in page(sim)
    assert "Faults cleared" in press(sim, "clear_faults")
    assert "latency=" not in page(sim)
    assert "Delivered 0 of 0" in press(sim, "deliver")


def test_auto_refresh(sim):
    html = requests.get(sim.base_url + "/?refresh=3", timeout=5).text
    assert '<meta http-equiv="refresh" content="3">' in html


def test_complete_reports_the_remaining_processes_at_the_floors_pace(sim, gql):
    sim.configure_floor({"op-proc-solder": {"minutes": 7, "stations": ["Solder 1"]}})
    sim.upsert_sub_operation("op-desk-lamp", "op-proc-solder")
    save_order(gql, "WH/MO/00001", "op-desk-lamp")
    assert "Completed" in press(sim, "complete", **unit(), serial="")
    process, built = sim.completions()
    assert process["operation"]["id"] == "op-proc-solder"
    assert process["endState"]["station"] == {"name": "Solder 1"}
    assert 3 < process["operationSummary"]["cycleTime"] / 60000 < 25
    assert (
        built["operationSummary"]["startedAt"]
        == (process["operationSummary"]["startedAt"])
    )
    assert "unknown order" in press(sim, "complete", **unit(5))
