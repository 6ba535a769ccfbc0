"""Make the repository root importable (pico_sim, bench helpers) for every test."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    from odoo.tools import config
except ImportError:  # the simulator's tests run without Odoo; bin/test checks for it
    config = None
if config is not None:
    # pytest-odoo imports odoo.tests before it sets test mode, which makes Odoo log
    # "Importing test framework" as an ERROR; import it here, in test mode.
    config["test_enable"] = True
    import odoo.tests  # noqa: F401

    config["test_enable"] = False
