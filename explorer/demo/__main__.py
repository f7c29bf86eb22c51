"""``python -m explorer.demo {train,evaluate,scenes} ...``"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m explorer.demo",
                                     description="The bundled demo ViT: train it, or score explanation methods.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="train the demo ViT on generated scenes", add_help=False)
    sub.add_parser("evaluate", help="benchmark explanation methods on held-out scenes", add_help=False)
    sub.add_parser("scenes", help="write generated scenes as PNGs", add_help=False)
    if not argv or argv[0] not in ("train", "evaluate", "scenes"):
        parser.parse_args(argv)  # prints usage / errors
        return 2
    command, rest = argv[0], argv[1:]
    if command == "train":
        from .train import main as train_main

        return train_main(rest)
    if command == "evaluate":
        from .evaluate import main as evaluate_main

        return evaluate_main(rest)
    from .scenes import main as scenes_main

    return scenes_main(rest)


if __name__ == "__main__":
    raise SystemExit(main())
