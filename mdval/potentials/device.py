"""Which torch device a run uses."""

from __future__ import annotations

from mdval.errors import InputError


def resolve_device(device: str = "auto") -> str:
    """The torch device name to use: ``"auto"`` → ``"cuda"`` if torch sees a GPU, else ``"cpu"``.

    ``"cpu"`` and ``"cuda[:N]"`` are returned as given.

    Raises :class:`InputError` for an unknown name, or for CUDA when none is available.
    Call it in the process that will run the model (a worker child, never a parent that
    forks), since asking torch about CUDA touches the driver.
    """
    import torch

    name = device.strip().lower()
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InputError(f"device {device!r} requested but torch sees no CUDA GPU")
        if ":" in name:
            index = name.split(":", 1)[1]
            if not index.isdigit() or int(index) >= torch.cuda.device_count():
                raise InputError(
                    f"device {device!r}: no such GPU ({torch.cuda.device_count()} visible)"
                )
        return name
    raise InputError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'")
