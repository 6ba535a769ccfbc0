"""``python3 -m demo run|load``: what ``bin/demo`` and the Docker set-up run.

``run`` starts the simulator, loads the demo data, serves Odoo until Ctrl-C and
stops both; ``load`` only loads the data, for a PICO and an Odoo elsewhere.
Both expect a database with pico_mes installed (``bin/demo`` sees to it).
"""

import argparse
import signal
import sys
import time
from pathlib import Path

from .stack import (
    DEMO_TOKEN,
    DemoConfig,
    DemoError,
    load_data,
    load_demo_data,
    odoo_server,
    say,
    simulator,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python3 -m demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="simulator + demo data + Odoo")
    load = commands.add_parser("load", help="demo data only")
    for command in (run, load):
        command.add_argument("--odoo-bin", required=True)
        command.add_argument("--conf", required=True, type=Path, help="Odoo config")
        command.add_argument("--db", default="pico_demo")
    run.add_argument("--odoo-port", type=int, default=8069)
    run.add_argument("--sim-port", type=int, default=8070)
    run.add_argument("--auto-build", type=float, default=20, metavar="SECONDS")
    run.add_argument("--reset", action="store_true", help="forget the PICO state")
    run.add_argument("--no-serve", action="store_true", help="set up, then stop")
    load.add_argument("--api-url", required=True, help="PICO's GraphQL endpoint")
    load.add_argument("--token", default=DEMO_TOKEN)
    load.add_argument("--base-url", required=True, help="Odoo's address for people")
    load.add_argument("--public-url", help="Odoo's address for PICO's webhooks")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> None:
    config = DemoConfig(
        odoo_bin=args.odoo_bin,
        conf=args.conf,
        db=args.db,
        odoo_port=args.odoo_port,
        sim_port=args.sim_port,
        auto_build=args.auto_build,
    )
    if args.reset:
        config.sim_state.unlink(missing_ok=True)
    # The data loads with a simulator that builds nothing by itself: a day of
    # history is built in the past while it loads, none of it live.
    loader, pico, odoo = simulator(config, 0), simulator(config), odoo_server(config)
    try:
        say(f"Starting the PICO simulator on {config.sim_url}")
        loader.start()
        say(
            f"Loading the demo data into {config.db}, connecting it to PICO, "
            "and a day of history"
        )
        load_demo_data(config)
        loader.stop()
        if args.no_serve:
            return
        pico.start()
        say(f"Starting Odoo on {config.odoo_url}")
        odoo.start()
        print_welcome(config)
        serve(pico, odoo)
    finally:
        odoo.stop()
        pico.stop()
        loader.stop()


def print_welcome(config: DemoConfig) -> None:
    build = f"{config.auto_build:g} s" if config.auto_build else "by hand on its page"
    say("The PICO demo is running; Ctrl-C stops it")
    print(
        f"  Odoo            {config.odoo_url}   (login admin, password admin)\n"
        f"  PICO simulator  {config.sim_url}/   (builds each unit: {build})\n"
        f"  Logs            {config.log('odoo')}, {config.log('sim')}\n"
        "  Log in: the PICO dashboard shows the floor's last 24 hours\n"
        "  Try: Manufacturing > the draft order of 2 Sensor Kits > Confirm",
        flush=True,
    )


def serve(*services) -> None:
    """Wait for Ctrl-C or SIGTERM; fail if a service dies on its own."""
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # SIGINT may come ignored
        signal.signal(stop_signal, signal.default_int_handler)
    try:
        while all(service.running for service in services):
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("Stopping")
        return
    dead = next(service for service in services if not service.running)
    raise DemoError(f"{dead.name} stopped unexpectedly:\n{dead.log_tail()}")


def load(args: argparse.Namespace) -> None:
    load_data(
        args.odoo_bin,
        args.conf,
        args.db,
        api_url=args.api_url,
        token=args.token,
        base_url=args.base_url,
        public_url=args.public_url,
    )


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        {"run": run, "load": load}[args.command](args)
    except DemoError as error:
        sys.exit(f"\033[31mERROR: {error}\033[0m")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
