"""`seedance-nb quickstart`: run the quickstart notebook headless on the emulator.

No key and no network: the kernel is forced onto the offline emulator (loopback
only). The executed notebook is written next to its `seedance-output/` folder, in
./seedance-quickstart, or under the user's cache when the current directory is a
source checkout (so a clone of this repository stays clean); `--out` chooses.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

NOTEBOOK = "quickstart.ipynb"
# Variables that would point the kernel at a real gateway.
_REAL = ("SEEDANCE_PROVIDER", "SEEDANCE_EMULATE", "ARK_API_KEY", "BYTEPLUS_API_KEY",
         "COMETAPI_KEY", "ACEDATACLOUD_API_TOKEN")


def find_notebook() -> Path:
    """The quickstart shipped with the package, else the repository's copy."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "notebooks" / NOTEBOOK, here.parents[1] / "notebooks" / NOTEBOOK):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{NOTEBOOK} not found next to the package or in the repository; "
                            f"pass --notebook PATH")


def default_out(cwd: Optional[Path] = None) -> Path:
    """./seedance-quickstart, unless `cwd` is a source checkout: then the user's cache."""
    cwd = Path.cwd() if cwd is None else cwd
    if not any((cwd / marker).exists() for marker in (".git", "pyproject.toml", "setup.py")):
        return cwd / "seedance-quickstart"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "seedance-nb" / "quickstart"


def _jupyter() -> str:
    """The `jupyter` next to this Python (a venv need not be activated), else on PATH."""
    exe = Path(sys.executable).parent / ("jupyter.exe" if os.name == "nt" else "jupyter")
    return str(exe) if exe.is_file() else (shutil.which("jupyter") or str(exe))


def open_command(notebook: Path) -> Optional[str]:
    """The command that opens `notebook` in JupyterLab, or None when Lab is not installed."""
    if importlib.util.find_spec("jupyterlab") is None:
        return None
    return f"{_jupyter()} lab {notebook}"


def kernel_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REAL}
    env["SEEDANCE_PROVIDER"] = "emulator"
    env["SEEDANCE_NB_WAIT"] = "1"  # headless: every cell holds its finished video
    return env


def run(notebook: Path, out_dir: Path, *, timeout: int = 600,
        env: Optional[dict[str, str]] = None) -> Path:
    """Execute `notebook` with its working directory `out_dir`; return the executed copy."""
    import nbformat
    from nbclient import NotebookClient

    out_dir.mkdir(parents=True, exist_ok=True)
    book = nbformat.read(notebook, as_version=4)
    client = NotebookClient(book, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(out_dir)}})
    dest = out_dir / notebook.name
    try:
        client.execute(env=env if env is not None else kernel_env(), cwd=str(out_dir))
    finally:
        nbformat.write(book, dest)  # partial results help when a cell fails
    return dest


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="seedance-nb quickstart", description=__doc__)
    parser.add_argument("--out", help="folder for the executed notebook and its seedance-output/ "
                                      "(default: ./seedance-quickstart, or "
                                      "~/.cache/seedance-nb/quickstart in a source checkout)")
    parser.add_argument("--notebook", help="notebook to run (default: the bundled quickstart)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        notebook = Path(args.notebook) if args.notebook else find_notebook()
    except FileNotFoundError as exc:
        print(f"seedance-nb quickstart: {exc}", file=sys.stderr)
        return 2
    out_dir = Path(args.out).resolve() if args.out else default_out()
    if not args.out and out_dir.parent != Path.cwd():
        print(f"the current directory is a source checkout; writing to {out_dir} "
              f"(choose with --out)")
    print(f"running {notebook} on the offline emulator (no key, no network)...", flush=True)
    start = time.monotonic()
    try:
        dest = run(notebook, out_dir, timeout=args.timeout)
    except Exception as exc:  # nbclient's CellExecutionError carries the cell's traceback
        print(f"seedance-nb quickstart: the notebook stopped with an error:\n{exc}",
              file=sys.stderr)
        print(f"partly executed notebook: {out_dir / notebook.name}", file=sys.stderr)
        return 1
    videos = sorted((out_dir / "seedance-output").glob("*.mp4"))
    print(f"done in {time.monotonic() - start:.0f} s")
    print(f"executed notebook: {dest}")
    print(f"videos ({len(videos)}): {out_dir / 'seedance-output'}")
    for video in videos:
        print(f"  {video.name}")
    command = open_command(dest)
    if command:
        print(f"open it with: {command}")
    else:
        print(f"to open it, install JupyterLab ({sys.executable} -m pip install jupyterlab), "
              f"then run: {_jupyter()} lab {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
