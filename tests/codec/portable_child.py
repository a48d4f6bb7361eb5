"""Run by tests/codec/test_portable.py in a subprocess with other CPU kernels and threads.

    python portable_child.py WORK TAG [PREVIOUS_TAG]

For every run in WORK/plan.json: the float decoder's outputs and the exact decoder's integers
for the rounded codes of its images, to WORK/TAG-RUN-float.npy and WORK/TAG-RUN-exact.npy.
For every job: decode the parent's file WORK/NAME.aez to
WORK/TAG-NAME.npy (pixel levels); compress the job's images with this process's kernels to
WORK/TAG-NAME.aez; and decode the file the previous process compressed to
WORK/TAG-from-PREVIOUS-NAME.npy.
"""

import json
import sys
from pathlib import Path

import numpy as np

from aekit.codec.aez import compress_file, decompress_file
from aekit.data.arrays import as_uint8
from aekit.inference import decode, encode
from aekit.models.exact import integer_decoder
from aekit.runs import load_run


def main() -> None:
    work, tag = Path(sys.argv[1]), sys.argv[2]
    previous = sys.argv[3] if len(sys.argv) > 3 else None
    plan = json.loads((work / "plan.json").read_text())
    for folder in sorted({job["run"] for job in plan}):
        model = load_run(folder).model
        codes = np.round(encode(model, np.load(work / "images.npy")) * 4) / 4
        np.save(work / f"{tag}-{Path(folder).name}-float.npy", decode(model, codes))
        np.save(work / f"{tag}-{Path(folder).name}-exact.npy", integer_decoder(model.decoder).outputs(codes))
    for job in plan:
        name, run = job["name"], job["run"]
        np.save(work / f"{tag}-{name}.npy", as_uint8(decompress_file(work / f"{name}.aez", run_folder=run)))
        compress_file(
            run,
            job["images"],
            work / f"{tag}-{name}.aez",
            quality=job["quality"],
            step=job["step"],
            force=True,
        )
        if previous:
            decoded = decompress_file(work / f"{previous}-{name}.aez", run_folder=run)
            np.save(work / f"{tag}-from-{previous}-{name}.npy", as_uint8(decoded))


if __name__ == "__main__":
    main()
