"""The fast paths of ``--to coco`` give exactly what the plain ones give."""

from __future__ import annotations

import math
import random
import struct

import numpy as np

from toolkit.convert.coco import _round2, _round4
from toolkit.media import FileNamer


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def test_round2_round4_are_round() -> None:
    rng = random.Random(7)
    f32 = np.random.default_rng(7).random(20000).astype(np.float32).tolist()
    values = [v * w for v in f32 for w in (640.0, 480.0, 1.0, 3.0)]
    values += [rng.uniform(-1e6, 1e6) for _ in range(20000)]
    values += [rng.randint(-(10**7), 10**7) / 8.0 for _ in range(5000)]  # exact ties
    values += [
        math.ldexp(rng.random(), rng.randint(-1074, 1023)) * rng.choice((1, -1))
        for _ in range(5000)
    ]
    values += [0.0, -0.0, -0.001, 0.004, -0.004, 0.005, 0.125, 0.375, 2.675, 1.005]
    values += [1e-300, -1e-300, 5e-324, 2.0**40 / 100, 2.0**53, 1e308, -1e308]
    for x in values:
        assert _bits(_round2(x)) == _bits(round(x, 2)), x
        assert _bits(_round4(x)) == _bits(round(x, 4)), x


def test_file_namer_fast_path_keeps_the_rules() -> None:
    ids = ["img-1", "IMG-1", "img-1", "con", "CON.jpg", "a.", "x" * 200, "x" * 189]
    ids += ["lpt1.tar.gz", "nul-ok", "_a.b", "-a", ".a", "img-1-0ecd5ec1b3"]
    namer = FileNamer()
    stems = [namer.stem_for(i) for i in ids]
    assert stems[0] == "img-1"
    assert stems[1].startswith("IMG-1-")  # the same name but for case: hashed
    assert stems[2] == "img-1"  # the same id, the same stem
    assert stems[3].startswith("_con") and stems[4].startswith("_CON")
    assert stems[5] == "a-" + stems[5][2:] and stems[5] != "a."
    assert stems[6] != "x" * 200 and len(stems[6].encode()) <= 189
    assert stems[7] == "x" * 189
    assert stems[8].startswith("_lpt1") and stems[9] == "nul-ok" and stems[10] == "_a.b"
    assert len({s.casefold() for s in stems}) == len(set(ids))
