"""One production-shaped stack for the session; each case's figures are printed
at the end of the run (and written to ``var/reliability-figures.json``)."""

import json
import os

import pytest

from .stack import FULL, REPO, Stack

_figures = []


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "reliability: drives Odoo in prefork mode and the PICO simulator"
    )


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def stack():
    pytest.importorskip("odoo", reason="the reliability suite needs Odoo 18")
    built = Stack()
    try:
        built.build()
        yield built
    finally:
        built.stop()


@pytest.fixture
def figures():
    """Call ``figures(Figures(...))`` to report a case's figures."""
    return _figures.append


def pytest_terminal_summary(terminalreporter):
    if not _figures:
        return
    mode = "full" if FULL else "CI"
    terminalreporter.section(f"reliability figures ({mode} sizes)")
    for figure in _figures:
        terminalreporter.write_line(figure.line())
    path = REPO / "var" / "reliability-figures.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "mode": mode,
                "figures": [{k: v for k, v in vars(f).items()} for f in _figures],
            },
            indent=1,
            default=str,
        )
    )
    os.environ.setdefault("PICO_RELIABILITY_FIGURES", str(path))
