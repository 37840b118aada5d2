"""Runtime requirements keep lower bounds past known advisories, and this environment satisfies them."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests import ROOT

# Package -> first release past the advisories named in requirements.txt.
FIXED_IN = {
    "streamlit": "1.54",
    "duckdb": "1.4.2",
    "pyarrow": "14.0.1",
    "starlette": "0.49.1",
    "python-multipart": "0.0.27",
    "h11": "0.16.0",
    "jinja2": "3.1.6",
    "mako": "1.2.2",
    "pillow": "11.3.0",
    "protobuf": "6.31.1",
    "requests": "2.32.4",
    "urllib3": "2.6.0",
}


def _requirements() -> dict[str, Requirement]:
    lines = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    reqs = [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]
    return {r.name.lower(): r for r in reqs}


def _floor(req: Requirement) -> Version | None:
    floors = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
    return max(floors) if floors else None


@pytest.mark.parametrize("package", sorted(FIXED_IN))
def test_lower_bound_is_past_the_advisories(package):
    req = _requirements().get(package)
    assert req is not None, f"{package} has no lower bound in requirements.txt"
    floor = _floor(req)
    assert floor is not None and floor >= Version(FIXED_IN[package]), f"{req} allows a vulnerable release"


def test_every_runtime_requirement_has_a_lower_bound():
    assert [str(r) for r in _requirements().values() if _floor(r) is None] == []


def test_installed_versions_satisfy_the_requirements():
    unmet = []
    for name, req in _requirements().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            unmet.append(f"{name} not installed")
            continue
        if not req.specifier.contains(installed, prereleases=True):
            unmet.append(f"{name} {installed} does not satisfy {req}")
    assert unmet == []
