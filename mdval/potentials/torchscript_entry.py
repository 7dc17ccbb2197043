"""Registry entries for TorchScript files (user uploads and the zoo).

Resolving a file loads it once with ``torch.jit.load``, reads ``supported_atomic_numbers``
and ``cutoff_A``, counts parameters, hashes the bytes and runs a small forward + backward
pass to check the contract. The facts are cached by (path, mtime, size).

A torch potential takes one option, the precision of the model, with the families' syntax:
``zoo:original?dtype=float32`` or ``model.pt?dtype=float32`` (``float64``, the default, is
written without it). The same file in float32 is another model: its identity (``sha256``)
is the file's hash for float64 and a hash over the file's hash and the dtype otherwise.
Engines keep positions, momenta and energy sums in float64 whatever the model's dtype.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ase.calculators.calculator import Calculator
from ase.data import chemical_symbols

from mdval.errors import PotentialError
from mdval.potentials.base import PotentialEntry
from mdval.potentials.families.spec import Option

#: The option of TorchScript and zoo potentials (the first choice is the default).
TORCH_DTYPE = Option(
    "dtype",
    ("float64", "float32"),
    "precision of the model's parameters and arithmetic; the integrator stays float64",
)


@dataclass(frozen=True)
class TorchScriptFacts:
    """What mdval reads from a TorchScript file."""

    sha256: str
    n_params: int
    supported_atomic_numbers: tuple[int, ...] | None
    cutoff_A: float | None
    warnings: tuple[str, ...] = field(default=())


def file_sha256(path: Path) -> str:
    """Hex sha256 of the bytes of ``path``."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_supported(module: Any, name: str) -> tuple[int, ...] | None:
    if not hasattr(module, "supported_atomic_numbers"):
        return None
    raw = module.supported_atomic_numbers
    try:
        zs = tuple(sorted({int(z) for z in raw}))
    except (TypeError, ValueError) as exc:
        raise PotentialError(
            f"{name}: supported_atomic_numbers must be a list of ints, got {raw!r}"
        ) from exc
    bad = [z for z in zs if not 1 <= z <= 118]
    if bad or not zs:
        raise PotentialError(f"{name}: supported_atomic_numbers {list(zs)} are not elements")
    return zs


def smoke_test(module: Any, name: str, z: int) -> None:
    """Forward + backward on two 2-atom systems of element ``z``; PotentialError if broken."""
    import torch

    dtype = next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float64)
    positions = torch.tensor(
        [[0.0, 0.0, 0.0], [1.2, 0.0, 0.0], [10.0, 0.0, 0.0], [10.0, 2.0, 0.0]],
        dtype=dtype,
        requires_grad=True,
    )
    numbers = torch.full((4,), z, dtype=torch.int64)
    system_index = torch.tensor([0, 0, 1, 1], dtype=torch.int64)
    try:
        energies = module(positions, numbers, system_index, 2)
        (grad,) = torch.autograd.grad(energies.sum(), positions)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise PotentialError(
            f"{name}: test forward pass failed ({reason}); the call must be "
            "model(positions (N,3), atomic_numbers (N,), system_index (N,), n_systems) -> "
            "energies (n_systems,), differentiable in positions"
        ) from exc
    if not isinstance(energies, torch.Tensor) or tuple(energies.shape) != (2,):
        shape = tuple(energies.shape) if isinstance(energies, torch.Tensor) else type(energies)
        raise PotentialError(
            f"{name}: returned {shape} for 2 systems; the contract is energies of shape "
            "(n_systems,)"
        )
    if not bool(torch.isfinite(energies).all()) or not bool(torch.isfinite(grad).all()):
        raise PotentialError(f"{name}: test forward pass gave non-finite energy or forces")


@lru_cache(maxsize=64)
def _inspect(path_str: str, mtime_ns: int, size: int) -> TorchScriptFacts:
    del mtime_ns, size  # cache key only
    from mdval.potentials.torchscript import load_torchscript_module

    path = Path(path_str)
    module = load_torchscript_module(path, "cpu", dtype=None)
    supported = _read_supported(module, path.name)
    cutoff = getattr(module, "cutoff_A", None)
    cutoff_A = float(cutoff) if isinstance(cutoff, int | float) and math.isfinite(cutoff) else None
    smoke_test(module, path.name, supported[0] if supported else 1)
    warnings: tuple[str, ...] = ()
    if supported is None:
        warnings = ("no supported_atomic_numbers attribute: the element check cannot run",)
    return TorchScriptFacts(
        sha256=file_sha256(path),
        n_params=int(sum(p.numel() for p in module.parameters())),
        supported_atomic_numbers=supported,
        cutoff_A=cutoff_A,
        warnings=warnings,
    )


def inspect_torchscript(path: Path) -> TorchScriptFacts:
    """Facts of the TorchScript file ``path`` (cached while its mtime and size stay)."""
    p = path.expanduser().resolve()
    if not p.is_file():
        raise PotentialError(f"TorchScript file not found: {str(path)!r}")
    st = p.stat()
    return _inspect(str(p), st.st_mtime_ns, st.st_size)


def split_dtype(text: str) -> tuple[str, str]:
    """``(spec without options, dtype)`` of ``zoo:NAME?dtype=float32`` or ``FILE.pt?dtype=...``
    (dtype ``float64`` when no option is given); PotentialError naming what is accepted."""
    base, sep, query = text.partition("?")
    if not sep:
        return text, TORCH_DTYPE.default
    accepted = f"a torch potential takes one option, dtype={'|'.join(TORCH_DTYPE.choices)}"
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise PotentialError(f"{text!r}: {accepted}, e.g. {base}?dtype=float32") from None
    if len(pairs) != 1 or pairs[0][0].strip().lower() != TORCH_DTYPE.name:
        raise PotentialError(f"{text!r}: {accepted}")
    value = pairs[0][1].strip().lower()
    if value not in TORCH_DTYPE.choices:
        raise PotentialError(f"{text!r}: dtype={value!r} is not allowed; {accepted}")
    return base.strip(), value


def dtype_spec(base: str, dtype: str) -> str:
    """The canonical spec: the default dtype is not written."""
    return base if dtype == TORCH_DTYPE.default else f"{base}?dtype={dtype}"


def dtype_sha256(file_sha256: str, dtype: str) -> str:
    """The model's identity: the file's hash in float64, a hash of (hash, dtype) otherwise."""
    if dtype == TORCH_DTYPE.default:
        return file_sha256
    return hashlib.sha256(f"mdval-torchscript-v1|{file_sha256}|dtype={dtype}".encode()).hexdigest()


def _factory(path: Path, dtype: str) -> Any:
    def make(device: str) -> Calculator:
        import torch

        from mdval.potentials.torchscript import TorchScriptCalculator

        return TorchScriptCalculator(path, device=device, dtype=getattr(torch, dtype))

    return make


def torchscript_entry(
    path: Path,
    *,
    spec: str,
    kind: str = "torchscript",
    name: str | None = None,
    extra: dict[str, Any] | None = None,
    dtype: str = TORCH_DTYPE.default,
) -> PotentialEntry:
    """The registry entry of a TorchScript file (non-periodic; torch engine capable) with
    the model in ``dtype`` (``spec`` is given without the option)."""
    if dtype not in TORCH_DTYPE.choices:
        raise PotentialError(f"{spec}: dtype {dtype!r} is not one of {TORCH_DTYPE.choices}")
    facts = inspect_torchscript(path)
    resolved = path.expanduser().resolve()
    supported = (
        frozenset(chemical_symbols[z] for z in facts.supported_atomic_numbers)
        if facts.supported_atomic_numbers is not None
        else None
    )
    info: dict[str, Any] = {
        "cutoff_A": facts.cutoff_A,
        "warnings": list(facts.warnings),
        "dtype": dtype,
        "file_sha256": facts.sha256,
    }
    info.update(extra or {})
    return PotentialEntry(
        spec=dtype_spec(spec, dtype),
        name=(name or resolved.stem) + ("" if dtype == TORCH_DTYPE.default else f" ({dtype})"),
        kind=kind,
        sha256=dtype_sha256(facts.sha256, dtype),
        supported_elements=supported,
        factory=_factory(resolved, dtype),
        n_params=facts.n_params,
        torchscript_path=resolved,
        periodic_ok=False,
        extra=info,
    )
