"""What every family adapter needs: its package (or a message naming the extra to install),
its checkpoint file, an identity over the weights' bytes, a parameter count, and load errors
turned into one-line :class:`~mdval.errors.PotentialError` messages."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from ase.calculators.calculator import Calculator

from mdval.errors import PotentialError
from mdval.potentials.base import PotentialEntry
from mdval.potentials.families.declared import installed_version, not_installed_message
from mdval.potentials.families.spec import FamilySpec

IDENTITY_VERSION = "mdval-family-v1"


def require(module: str, *, family: str, dist: str, extra: str) -> ModuleType:
    """Import ``module`` or say which extra installs it. Whether the package is installed
    is :func:`~mdval.potentials.families.declared.installed_version`'s to say (the API's
    family list asks the same); an installed one may still fail to import (torchani 2.2
    also needs ``pkg_resources``), which names the extra too."""
    if installed_version(dist) is None:
        raise PotentialError(not_installed_message(family, dist, extra))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except Exception as exc:
        raise PotentialError(
            f"{family}: {dist} cannot be imported ({_one_line(exc)}); "
            f"install it with: pip install 'mdval[{extra}]'"
        ) from None


def package_dir(module: ModuleType) -> Path:
    """The folder of an imported package (where its shipped weights lie)."""
    return Path(str(module.__file__)).parent


def package_version(dist: str) -> str:
    return installed_version(dist) or "unknown"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


@contextmanager
def loading(family: str, what: str) -> Iterator[None]:
    """Turn any exception raised while loading ``what`` into a one-line PotentialError."""
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore")  # packages print banners: keep stdout for results
            yield
    except PotentialError:
        raise
    except Exception as exc:
        raise PotentialError(
            f"{family}: could not load {what}: {type(exc).__name__}: {_one_line(exc)}"
        ) from None


def checkpoint(
    target: str, *, family: str, shipped: dict[str, Path], suffixes: tuple[str, ...]
) -> Path:
    """The file of a shipped checkpoint's name, or of a local path with an accepted suffix."""
    if target.lower() in shipped:
        path = shipped[target.lower()]
        if not path.exists():
            raise PotentialError(f"{family}: the shipped checkpoint {target!r} is missing ({path})")
        return path
    path = Path(target).expanduser()
    names = ", ".join(sorted(shipped)) or "none"
    if not any(path.name.lower().endswith(s) for s in suffixes):
        raise PotentialError(
            f"{family}: {target!r} is neither a shipped checkpoint ({names}) nor a file ending "
            + " or ".join(suffixes)
        )
    if not path.is_file():
        raise PotentialError(f"{family}: checkpoint file not found: {target!r}")
    return path.resolve()


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        out.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return out


@lru_cache(maxsize=64)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    del size, mtime_ns  # cache keys: a changed file is hashed again
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_sha256(
    paths: Iterable[Path], *, family: str, dist: str, options: tuple[tuple[str, str], ...]
) -> str:
    """sha256 over the weight files' bytes, the family, its package's version and the
    options that change the numbers (dtype ...): the same weights in float32 and float64 are
    two models."""
    digest = hashlib.sha256(IDENTITY_VERSION.encode())
    digest.update(f"|{family}|{dist}={package_version(dist)}|".encode())
    digest.update("&".join(f"{k}={v}" for k, v in options).encode())
    for path in _files(paths):
        stat = path.stat()
        digest.update(f"|{path.name}:{_file_sha256(path, stat.st_size, stat.st_mtime_ns)}".encode())
    return digest.hexdigest()


def count_parameters(*modules: Any) -> int:
    """Parameters of torch modules (shared tensors counted once)."""
    seen: set[int] = set()
    total = 0
    for module in modules:
        for p in module.parameters():
            if id(p) not in seen:
                seen.add(id(p))
                total += int(p.numel())
    return total


def family_entry_of(
    spec: FamilySpec,
    *,
    family: str,
    dist: str,
    name: str,
    weights: list[Path],
    factory: Callable[[str], Calculator],
    elements: frozenset[str] | None,
    n_params: int | None,
    dtype: str,
    molecules_ok: bool = True,
    **extra: Any,
) -> PotentialEntry:
    """The registry entry every family builds: canonical spec, identity over ``weights``,
    a torch model that may run on a GPU."""
    return PotentialEntry(
        spec=spec.canonical,
        name=name,
        kind="family",
        sha256=weights_sha256(
            weights, family=family, dist=dist, options=spec.identity_options
        ),
        supported_elements=elements,
        factory=factory,
        n_params=n_params,
        periodic_ok=True,
        molecules_ok=molecules_ok,
        extra={"family": family, "dtype": dtype, "device": spec.option("device"),
               "uses_torch": True, **extra},
    )  # fmt: skip


def torch_device(run_device: str, pinned: str) -> str:
    """The device a family model is built on: the spec's ``device`` unless it is ``auto``."""
    from mdval.potentials.device import resolve_device

    return resolve_device(run_device if pinned == "auto" else pinned)
