"""Every requirement reference anywhere in the package must exist in its catalog.

Scans ``src/assay/**/*.yaml`` and ``src/assay/**/*.py`` (catalogs, crosswalk,
evidence types, red-team corpus tags, code) for ``<framework>:<id>`` strings.
"""

from __future__ import annotations

from pathlib import Path

import assay
import assay.catalogs as catalogs
from assay.errors import AssayError

PACKAGE = Path(assay.__file__).resolve().parent


def _unknown_refs(root: Path) -> list[str]:
    problems: list[str] = []
    for path in sorted([*root.rglob("*.yaml"), *root.rglob("*.yml"), *root.rglob("*.py")]):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for ref in catalogs.find_refs(line):
                try:
                    catalogs.resolve(ref)
                except AssayError as exc:
                    problems.append(f"{path.relative_to(root)}:{lineno}: {ref}: {exc}")
    return problems


def test_every_reference_in_the_package_resolves() -> None:
    problems = _unknown_refs(PACKAGE)
    assert not problems, "unknown requirement references:\n" + "\n".join(problems)


def test_the_scan_finds_references_and_catches_bad_ones(tmp_path: Path) -> None:
    assert len(_unknown_refs(PACKAGE)) == 0
    found = sum(
        len(catalogs.find_refs(p.read_text(encoding="utf-8"))) for p in PACKAGE.rglob("*.yaml")
    )
    assert found > 100  # crosswalk and evidence mappings are actually scanned
    (tmp_path / "corpus.yaml").write_text(
        "tags:\n  controls: [iso42001:A.6.6, eu-ai-act:Art.15, nist-ai-rmf:MEASURE-2.14]\n",
        encoding="utf-8",
    )
    (tmp_path / "probe.py").write_text('CONTROLS = ["iso42001:A.10.5"]\n', encoding="utf-8")
    bad = _unknown_refs(tmp_path)
    assert len(bad) == 3
    assert any("A.6.6" in p for p in bad) and any("A.10.5" in p for p in bad)
