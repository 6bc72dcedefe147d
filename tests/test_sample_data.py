"""sample_data/ is exactly what the seeded script makes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sample_data_is_reproducible(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sample_data.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    made = sorted(p.name for p in tmp_path.glob("*.zip"))
    assert made == sorted(p.name for p in (ROOT / "sample_data").glob("*.zip"))
    for name in made:
        fresh = (tmp_path / name).read_bytes()
        shipped = (ROOT / "sample_data" / name).read_bytes()
        assert fresh == shipped, f"sample_data/{name} is stale: run scripts/make_sample_data.py"
