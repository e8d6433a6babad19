"""`seedance-nb emulator` / `python -m seedance_nb.emulator`: run the offline server."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import signal
import sys
import threading
import time
from typing import Optional, Sequence

from .. import catalog
from .faults import FaultConfig
from .renders import DEFAULT_MODULE
from .store import Settings


def _pairs(option: str, values: Sequence[str], as_int: bool) -> dict:
    out: dict = {}
    for item in values or ():
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ValueError(f"{option} expects KEY=VALUE, got {item!r}")
        if as_int:
            try:
                out[key] = int(value)
            except ValueError:
                raise ValueError(f"{option} {key}: {value!r} is not an integer") from None
        else:
            out[key] = value
    return out


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"rate must be within [0, 1], got {text}")
    return value


class OptionError(ValueError):
    """A bad start-up option; the message is one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise OptionError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="seedance-nb emulator",
                                description="Offline Seedance emulator: every gateway dialect on "
                                            "one loopback server (reference §10).",
                                epilog="GET /_emulator/stats (no bearer) returns JSON counts of "
                                       "creates, requests and injected faults.")
    p.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--token", action="append", metavar="TOKEN",
                   help=f"accepted bearer token (repeatable; default {catalog.EMULATOR_DEFAULT_TOKEN})")
    p.add_argument("--speed", type=float, default=1.0,
                   help="time factor: queueing, running, expiry, RPM windows, URL lifetime and "
                        "retention are divided by it (callback timing is not)")
    p.add_argument("--comet-status-case", choices=("upper", "lower"), default="upper",
                   help="status words on /v1/videos: SUBMITTED... or queued...")
    p.add_argument("--run-seconds", type=float, default=None,
                   help="emulated running time per task (default 30 + 10 x video seconds)")
    p.add_argument("--rpm", action="append", metavar="FAMILY=N", default=[],
                   help="creates per minute per token and model (repeatable; default 600, "
                        "1.0-lite 300)")
    p.add_argument("--concurrency", action="append", metavar="FAMILY=N", default=[],
                   help="running tasks per token and family; the rest wait FIFO (repeatable; "
                        "default 10, 1.0-lite 5)")
    p.add_argument("--max-queued", type=int, default=120, help="queued tasks per token")
    p.add_argument("--endpoint", action="append", metavar="ep-ID=FAMILY", default=[],
                   help="endpoint id accepted as a model on /api/v3 (repeatable)")
    p.add_argument("--catalog", metavar="PATH", default=None,
                   help=f"TOML catalog file adding or changing model families (reference "
                        f"§2.5); default ${CATALOG_ENV}")
    p.add_argument("--max-body-bytes", type=int, default=catalog.MAX_BODY_BYTES, metavar="N",
                   help="larger request bodies are refused with a 413 in the route's envelope "
                        f"(default {catalog.MAX_BODY_BYTES})")
    f = p.add_argument_group("faults (each rate is a share in [0, 1])")
    f.add_argument("--fault-5xx", type=_rate, default=0.0, metavar="RATE",
                   help="share of answers turned into a 500 in the route's envelope; on a "
                        "create the task is made first, then the 500 is sent")
    f.add_argument("--fault-reset", type=_rate, default=0.0, metavar="RATE",
                   help="share of connections reset (RST) before any reply; nothing is created")
    f.add_argument("--fault-slow-download", type=float, default=0.0, metavar="BYTES_PER_S",
                   help="serve /files downloads at this rate")
    f.add_argument("--fault-truncate", type=_rate, default=0.0, metavar="RATE",
                   help="share of /files downloads cut in half under the full Content-Length")
    f.add_argument("--fault-malformed", type=_rate, default=0.0, metavar="RATE",
                   help="share of JSON reads answered 200 with a cut JSON body")
    f.add_argument("--fault-seed", type=int, default=0, metavar="N",
                   help="seed for the fault draws (same seed, same requests: same faults)")
    f.add_argument("--fault-routes", choices=("reads", "all"), default="reads",
                   help="reads: GET, list, Ace retrieve and file downloads (default); "
                        "all: also creates and DELETE")
    p.add_argument("--render-module", default=DEFAULT_MODULE, help=argparse.SUPPRESS)
    p.add_argument("--exit-with-parent", action="store_true", help=argparse.SUPPRESS)
    return p


CATALOG_ENV = "SEEDANCE_CATALOG"
CATALOG_MODULE = "seedance_nb.catalog_file"


def catalog_path(args: argparse.Namespace) -> Optional[str]:
    """--catalog, else SEEDANCE_CATALOG, else None."""
    return args.catalog or os.environ.get(CATALOG_ENV, "").strip() or None


def apply_catalog(path: str) -> None:
    """Install the built-in families plus those of the catalog file at `path`."""
    if importlib.util.find_spec(CATALOG_MODULE) is None:
        raise OptionError(f"--catalog {path}: this installation has no catalog file support "
                          f"({CATALOG_MODULE} is missing)")
    module = importlib.import_module(CATALOG_MODULE)
    try:
        module.use_catalog_file(path)
    except Exception as err:  # the loader reports every problem, with file and key
        raise OptionError(f"--catalog {path}: {err}") from None


def parse(argv: Sequence[str], *, load_catalog: bool = True
          ) -> tuple[argparse.Namespace, Settings, FaultConfig]:
    """Parse and check options; raises OptionError with a one-line message.

    With `load_catalog` the catalog file (--catalog or SEEDANCE_CATALOG) is installed
    in this process first; without it (a parent checking a subprocess's options) the
    families named in options are left for the serving process to check.
    """
    args = build_parser().parse_args(list(argv))
    path = catalog_path(args)
    if path and load_catalog:
        apply_catalog(path)
    try:
        settings = Settings(
            speed=args.speed, tokens=tuple(args.token or (catalog.EMULATOR_DEFAULT_TOKEN,)),
            comet_status_case=args.comet_status_case, run_seconds=args.run_seconds,
            rpm=_pairs("--rpm", args.rpm, True),
            concurrency=_pairs("--concurrency", args.concurrency, True),
            max_queued=args.max_queued, endpoints=_pairs("--endpoint", args.endpoint, False),
            max_body_bytes=args.max_body_bytes, check_families=load_catalog or not path)
        faults = FaultConfig(rate_5xx=args.fault_5xx, rate_reset=args.fault_reset,
                             rate_truncate=args.fault_truncate,
                             rate_malformed=args.fault_malformed,
                             slow_download=args.fault_slow_download, seed=args.fault_seed,
                             routes=args.fault_routes)
    except OptionError:
        raise
    except ValueError as err:
        raise OptionError(str(err)) from None
    return args, settings, faults


def _watch_parent(server) -> None:
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1.0)
    server.shutdown()


def main(argv: Optional[Sequence[str]] = None) -> int:
    from .server import EmulatorServer

    try:
        args, settings, faults = parse(sys.argv[1:] if argv is None else argv)
    except OptionError as err:
        print(f"seedance-nb emulator: error: {err}", file=sys.stderr)
        return 2
    try:
        server = EmulatorServer(args.host, args.port, settings, faults, args.render_module)
    except OSError as err:
        print(f"seedance-nb emulator: cannot listen on {args.host}:{args.port}: {err.strerror}",
              file=sys.stderr)
        return 1
    print(f"Seedance emulator listening on {server.base_url}", flush=True)
    print(f"  token: {server.token}   speed: {settings.speed:g}", flush=True)
    print(f"  use it: SEEDANCE_EMULATOR_URL={server.base_url} "
          f"SEEDANCE_EMULATOR_TOKEN={server.token}; Ctrl-C stops it", flush=True)

    def stop(signum, frame) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    if args.exit_with_parent:
        threading.Thread(target=_watch_parent, args=(server,), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        from .renders import _close_all

        _close_all()
    print("Seedance emulator stopped.", flush=True)
    return 0
