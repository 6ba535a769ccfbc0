"""Run a benchmark inside Odoo: a registry on a bench database, one transaction
rolled back at the end, a simulator on localhost, timers and query counters.

Every benchmark measures its baseline in the same run and prints a ratio, since
these machines are noisy; absolute numbers are printed for information only.
"""

import argparse
import contextlib
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOKEN = "bench-token"


def parse_args(description, **extra):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", required=True, help="Odoo configuration file")
    parser.add_argument("--db", required=True, help="database with pico_mes installed")
    for name, (kind, default, help_text) in extra.items():
        flag = f"--{name.replace('_', '-')}"
        parser.add_argument(flag, dest=name, type=kind, default=default, help=help_text)
    return parser.parse_args()


@contextlib.contextmanager
def odoo_env(args, commit=False):
    """An environment as superuser; rolled back unless ``commit``."""
    import odoo
    from odoo import api

    odoo.tools.config.parse_config(
        ["-c", args.config, "-d", args.db, "--log-level=warn"]
    )
    threading.current_thread().testing = (
        True  # message processing keeps one transaction
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {"tracking_disable": True})
        try:
            yield env
        finally:
            if commit:
                cr.commit()
            else:
                cr.rollback()


def start_simulator(**options):
    """A simulator serving on localhost; the caller stops it."""
    from pico_sim import DEMO_SEED, PicoSimulator

    options.setdefault("background_delivery", False)
    options.setdefault("seed", DEMO_SEED)
    return PicoSimulator(token=TOKEN, **options).start()


@contextlib.contextmanager
def simulator(**options):
    sim = start_simulator(**options)
    try:
        yield sim
    finally:
        sim.stop()


class Meter:
    """Wall time, this process's CPU time and SQL queries of a block:
    ``with meter: ...``."""

    def __init__(self, env):
        self.env = env
        self.seconds = self.cpu = self.queries = 0

    def __enter__(self):
        self.env.flush_all()
        self._queries = self.env.cr.sql_log_count
        self._start = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc):
        self.env.flush_all()
        self.seconds = time.perf_counter() - self._start
        self.cpu = time.process_time() - self._cpu
        self.queries = self.env.cr.sql_log_count - self._queries


def enable_pico(env, sim, company=None):
    company = company or env.company
    company.write({"pico_enabled": True, "pico_api_url": sim.url})
    company.sudo().pico_api_token = TOKEN
    return company


def report(title, rows):
    """Print a small aligned table of (label, value) rows."""
    print(f"\n{title}")
    width = max(len(label) for label, _value in rows)
    for label, value in rows:
        print(f"  {label.ljust(width)}  {value}")
