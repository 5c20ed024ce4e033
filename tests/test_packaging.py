"""The base install (``pip install .``, no extras) holds every module the command imports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent

#: Every module of the command, imported in a fresh interpreter; it prints the top-level
#: names of the modules that loaded (not those the interpreter started with, such as a
#: site hook of setuptools).
_IMPORT_ALL = """
import importlib, json, pkgutil, sys
before = set(sys.modules)
for name in ("cli", "commands.audit", "commands.importing", "commands.operator"):
    importlib.import_module(name)
for package in ("commands", "domain", "ledger", "projections", "sources", "website"):
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
print(json.dumps(sorted({name.partition(".")[0] for name in set(sys.modules) - before})))
"""


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_by(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` install, with theirs, transitively: each
    distribution's requirements followed for every extra asked of it, their markers
    evaluated for that extra (and for this interpreter)."""
    followed: set[tuple[str, str]] = set()  # (distribution, extra)
    todo = [(Requirement(text), "") for text in requirements]
    while todo:
        requirement, extra_of_requirer = todo.pop()
        marker = requirement.marker
        if marker is not None and not marker.evaluate({"extra": extra_of_requirer}):
            continue
        name = _normal(requirement.name)
        for extra in ("", *requirement.extras):
            if (name, extra) not in followed:
                followed.add((name, extra))
                todo.extend((Requirement(text), extra)
                            for text in metadata.requires(requirement.name) or [])
    return {name for name, _ in followed}


def test_the_base_install_has_every_module_the_command_imports():
    """Every third-party module that the command's modules import comes with a distribution
    that the base dependencies install. The recorders imported psycopg, which only the
    extras brought, so ``pip install . && blockledger demo``, the README's first command,
    failed on a fresh machine."""
    base = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    installed = _installed_by(base) | {"blockledger"}
    out = subprocess.run([sys.executable, "-c", _IMPORT_ALL], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    owners = metadata.packages_distributions()
    missing = {name: owners[name] for name in json.loads(out)
               if name in owners and not {_normal(d) for d in owners[name]} & installed}
    assert not missing, f"imported, but not installed by the base dependencies: {missing}"


def test_python_dash_m_blockledger_is_the_command():
    """``python -m blockledger`` runs the same command as the script."""
    done = subprocess.run([sys.executable, "-m", "blockledger", "--help"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert done.stdout.startswith("Usage: blockledger") and "status" in done.stdout


def test_the_licence_is_the_one_the_metadata_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert "License :: OSI Approved :: Apache Software License" in project["classifiers"]
