"""The three zoo sizes: parameter targets from the plan and the widths that meet them."""

from __future__ import annotations

from dataclasses import dataclass

from mdval.zoo.model import RadialMPPotential, count_parameters

#: Elements of the teacher data (H, C, N, O).
ZOO_ELEMENTS = [1, 6, 7, 8]


@dataclass(frozen=True)
class ZooSize:
    name: str
    target_params: int
    width: int
    n_interactions: int = 3
    n_rbf: int = 32
    cutoff_A: float = 5.0


#: Same depth for all three, so the smaller ones differ only in capacity.
SIZES: dict[str, ZooSize] = {
    "original": ZooSize("original", 427_000, width=119),
    "tiny": ZooSize("tiny", 77_000, width=49),
    "ultra-tiny": ZooSize("ultra-tiny", 21_000, width=25),
}

#: Allowed relative deviation of a size's parameter count from its target.
PARAM_TOLERANCE = 0.05


def build(size: str | ZooSize, elements: list[int] | None = None) -> RadialMPPotential:
    s = SIZES[size] if isinstance(size, str) else size
    return RadialMPPotential(
        elements or ZOO_ELEMENTS,
        width=s.width,
        n_interactions=s.n_interactions,
        n_rbf=s.n_rbf,
        cutoff_A=s.cutoff_A,
    )


def best_width(target: int, n_interactions: int = 3, n_rbf: int = 32) -> int:
    """The width whose parameter count is closest to ``target`` (how the widths were chosen)."""

    def count(w: int) -> int:
        return count_parameters(
            RadialMPPotential(ZOO_ELEMENTS, w, n_interactions=n_interactions, n_rbf=n_rbf)
        )

    return min(range(4, 512), key=lambda w: abs(count(w) - target))
