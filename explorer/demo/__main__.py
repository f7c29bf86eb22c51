"""``python -m explorer.demo {train,evaluate,scenes} ...``"""

from __future__ import annotations

import argparse
import sys

from . import evaluate, scenes, train

COMMANDS = {"train": train, "evaluate": evaluate, "scenes": scenes}  # each module has main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m explorer.demo",
                                     description="The bundled demo ViT: train it, or score explanation methods.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="train the demo ViT on generated scenes", add_help=False)
    sub.add_parser("evaluate", help="benchmark explanation methods on held-out scenes", add_help=False)
    sub.add_parser("scenes", help="write generated scenes as PNGs", add_help=False)
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints usage / errors
        return 2
    return COMMANDS[argv[0]].main(argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
