"""The `seedance-nb` console script: dispatches to each subcommand's module."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

# subcommand -> (module, help); each module has main(argv) -> int
_COMMANDS = {
    "emulator": ("seedance_nb.emulator.cli", "run the offline emulator of every gateway"),
    "quickstart": ("seedance_nb.quickstart", "run the quickstart notebook headless on the emulator"),
    "models": ("seedance_nb.models", "the model catalog; --check asks the gateway what the "
                                     "account can use"),
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="seedance-nb", description=__doc__)
    parser.add_argument("command", choices=[*_COMMANDS, "version"])
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0 if argv else 2
    args = parser.parse_args(argv[:1])
    if args.command == "version":
        from seedance_nb import __version__

        print(f"seedance-nb {__version__}")
        return 0
    module = importlib.import_module(_COMMANDS[args.command][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
