"""Command line: ``python3 -m pico_sim --port 8070 --token TOKEN [...]``."""

import argparse
import logging
import signal
import threading

from .seed import DEMO_SEED
from .simulator import PicoSimulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m pico_sim", description="Simulate the PICO MES GraphQL API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8070)
    parser.add_argument("--token", required=True, help="expected x-pico-api-org value")
    parser.add_argument("--db", help="SQLite file keeping the state (default: memory)")
    parser.add_argument(
        "--seed",
        default=str(DEMO_SEED),
        help='JSON file of operations (default: the demo catalogue; "" for none)',
    )
    parser.add_argument(
        "--auto-build",
        type=float,
        metavar="SECONDS",
        help="complete every saved order automatically after SECONDS",
    )
    parser.add_argument("--public-url", help="base URL to show instead of host:port")
    parser.add_argument(
        "--random-seed",
        help="seed of the floor's process times, stations and operators "
        "(default: random)",
    )
    parser.add_argument(
        "--retry-base",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="first webhook redelivery delay, doubled on each failure (default: 1)",
    )
    parser.add_argument(
        "--retry-cap",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="longest webhook redelivery delay (default: 60)",
    )
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(name)s %(message)s",
    )
    sim = PicoSimulator(
        token=args.token,
        db_path=args.db,
        seed=args.seed or None,
        auto_build_seconds=args.auto_build,
        retry_base_seconds=args.retry_base,
        retry_cap_seconds=args.retry_cap,
        public_url=args.public_url,
        random_seed=args.random_seed,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    sim.start(args.host, args.port)
    print(f"PICO simulator: GraphQL {sim.url}, web page {sim.base_url}/", flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
