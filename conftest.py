"""Shared by every test. pico_sim is installed (pyproject.toml); pytest puts the
repository root, where this file lives, on the path for demo/ and bench/."""

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
