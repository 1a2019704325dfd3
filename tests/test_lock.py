"""The lock files pin what pyproject.toml declares, each pin with its hashes.

requirements/lock.txt (production: the image) and requirements/dev-lock.txt (with the dev
extra: this venv and CI) are written by `make lock` (pip-compile --generate-hashes). Changing
a dependency in pyproject.toml without running it fails here, offline: a new or tightened
dependency is not pinned at a version it allows, or a removed one is still pinned for it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
DEV_LOCK = ROOT / "requirements" / "dev-lock.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# How pip-compile names what pyproject.toml asks for in a pin's "# via" comment.
VIA_PROJECT = "advisor (pyproject.toml)"
VIA_BUILD = "advisor (pyproject.toml::build-system.requires)"
LOCKS = {"lock.txt": (LOCK, ()), "dev-lock.txt": (DEV_LOCK, ("dev",))}


@dataclass
class Pin:
    name: str
    version: str
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


def read_lock(path: Path) -> dict[str, Pin]:
    """Every `name==version` of a pip-compile output, with its --hash lines and what it is
    there for (its "# via" comment: one item on the line, or one per following line)."""
    pins: dict[str, Pin] = {}
    pin: Pin | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if found := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line):
            pin = Pin(canonicalize_name(found[1]), found[2])
            pins[pin.name] = pin
        elif pin and (found := re.match(r"^\s+--hash=(\S+)", line)):
            pin.hashes.append(found[1])
        elif pin and (found := re.match(r"^\s+# via\s*(.*)$", line)):
            pin.via += [found[1].strip()] if found[1].strip() else []
        elif pin and (found := re.match(r"^\s+#\s{3}(.+)$", line)):
            pin.via.append(found[1].strip())
        elif not line.startswith((" ", "#")) and line.strip():
            pin = None
    return pins


def requirements(extras: tuple[str, ...]) -> list[Requirement]:
    """The project's dependencies, with those of `extras`, that apply here (markers)."""
    declared = list(PYPROJECT["project"]["dependencies"])
    for extra in extras:
        declared += PYPROJECT["project"]["optional-dependencies"][extra]
    parsed = [Requirement(text) for text in declared]
    return [r for r in parsed if r.marker is None or r.marker.evaluate()]


def build_requirements() -> list[Requirement]:
    return [Requirement(text) for text in PYPROJECT["build-system"]["requires"]]


def names(reqs: list[Requirement]) -> set[str]:
    return {canonicalize_name(r.name) for r in reqs}


@pytest.mark.parametrize("lock", LOCKS)
def test_the_lock_pins_every_declared_dependency_at_a_version_it_allows(lock):
    path, extras = LOCKS[lock]
    pins = read_lock(path)
    for requirement in requirements(extras) + build_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in {lock}: run make lock"
        version = Version(pins[name].version)
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, which {requirement} does not allow: run make lock"
        )


@pytest.mark.parametrize("lock", LOCKS)
def test_the_lock_pins_nothing_pyproject_no_longer_asks_for(lock):
    path, extras = LOCKS[lock]
    pins = read_lock(path)
    for pin in pins.values():
        assert pin.via, f"{lock}: {pin.name} is pinned for nothing: run make lock"
        if VIA_PROJECT in pin.via:
            assert pin.name in names(requirements(extras)), (
                f"{lock} pins {pin.name} for pyproject.toml, which no longer declares it"
            )
        if VIA_BUILD in pin.via:
            assert pin.name in names(build_requirements())
        for reason in pin.via:  # a dependency of a dependency: that one is pinned too
            if not reason.startswith(("advisor (", "-c ")):
                assert canonicalize_name(reason) in pins, f"{lock}: {pin.name} via {reason}"


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_carries_its_hashes_and_the_project_itself_is_not_pinned(lock):
    path, _ = LOCKS[lock]
    pins = read_lock(path)
    assert pins
    for pin in pins.values():
        assert pin.hashes, f"{lock}: {pin.name} has no --hash (make lock uses --generate-hashes)"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in pin.hashes), pin.name
    # The project is installed from the working tree (--no-deps), never from the lock.
    assert canonicalize_name(PYPROJECT["project"]["name"]) not in pins
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"file://|^-e |^\.", text, re.MULTILINE)


def test_development_runs_the_versions_production_runs():
    production, development = read_lock(LOCK), read_lock(DEV_LOCK)
    differ = {
        name: (pin.version, development[name].version)
        for name, pin in production.items()
        if name not in development or development[name].version != pin.version
    }
    assert not differ, f"dev-lock.txt differs from lock.txt: {differ}; run make lock"


def test_the_image_and_make_install_use_the_locks_with_hashes():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir --require-hashes -r requirements/lock.txt" in dockerfile
    assert "pip install --no-cache-dir --no-deps --no-build-isolation ." in dockerfile
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "DEV_LOCK := requirements/dev-lock.txt" in makefile
    assert "install --require-hashes -r $(DEV_LOCK)" in makefile
    assert "install --no-deps --no-build-isolation -e ." in makefile
