"""``aekit models``: the built-in models and their measured figures."""

from __future__ import annotations

import argparse


def add_parser(commands) -> argparse.ArgumentParser:
    return commands.add_parser(
        "models",
        help="list the built-in models, usable by name wherever a run folder is taken",
        description="List the models that ship inside aekit: name, family, code size, parameters, "
        "file size, and their figures on the test split, as the manifest records them (the codec's "
        "bytes per image and PSNR at each quality). Use a name wherever a run folder is taken: "
        "aekit compress mnist-codec digits/ -o d.aez, aekit report mnist-conv32, "
        "aekit.load('tutorial'). A folder of the same name, where the command runs, wins.",
    )


def run(_args: argparse.Namespace) -> int:
    from aekit.builtin import manifest, table

    if not manifest():
        print("this aekit ships no built-in models")
        return 0
    print(table())
    return 0
