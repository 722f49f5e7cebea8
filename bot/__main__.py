"""`python -m bot` runs the command line."""

import sys

try:
    from bot.cli import main
except ModuleNotFoundError as exc:  # a Python without the project's packages, e.g. outside .venv
    if (exc.name or "").split(".")[0] == "bot":
        raise
    raise SystemExit(f"madoguchi: {exc} in {sys.executable}. Use the project's environment: "
                     "scripts/run … (it sets .venv up the first time), .venv/bin/python -m bot …, "
                     "or `. .venv/bin/activate` first.") from None

raise SystemExit(main())
