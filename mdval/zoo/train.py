"""Training a zoo student: energy + force loss, Adam, decaying LR, early stopping, checkpoints.

A run lives in ``run_dir``: ``state.pt`` (resume point, written after every epoch),
``best.pt`` (best-so-far weights by validation loss) and ``log.jsonl``. Every
``export_every_s`` the best-so-far weights are exported to TorchScript in ``weights_dir``
together with their card, so the shipped set is always loadable and consistent; the final
export happens when training ends.

Determinism: shuffling uses ``numpy.random.default_rng([seed, epoch])`` and torch is seeded
with ``seed``. The epoch count is fixed before training: ``epochs``, or fewer when a time
budget is given (a short calibration measures the step time; the resulting count is stored
in the state, so a resumed run keeps it).
"""

from __future__ import annotations

import json
import math
import sys
import time
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mdval.zoo import WEIGHTS_DIR
from mdval.zoo.dataset import Batch, FrameSet
from mdval.zoo.model import count_parameters, energy_and_forces
from mdval.zoo.sizes import SIZES, build

#: Steps timed at the start of a time-budgeted run to fix its epoch count.
CALIBRATION_STEPS = 30


@dataclass(frozen=True)
class TrainConfig:
    """Every policy number of a training run (recorded in the model card)."""

    seed: int = 0
    epochs: int = 60
    max_minutes: float | None = None
    batch_size: int = 16
    lr: float = 2e-3
    lr_final: float = 2e-5
    energy_weight: float = 0.2
    force_weight: float = 1.0
    #: Loss weight of a frame by kind (md, displaced, stretched). Displaced frames carry
    #: forces ~7x the MD ones (RMS 6 vs 0.9 eV/Å); at weight 1 they would dominate the loss.
    kind_weights: tuple[float, float, float] = (1.0, 0.05, 0.3)
    grad_clip: float = 10.0
    patience_epochs: int = 10
    export_every_s: float = 600.0
    #: Calls timed for the card's per-call cost at each export.
    timing_repeats: int = 100
    device: str = "auto"
    #: Fine-tuning: start from these weights instead of scratch — a ``best.pt`` state dict
    #: or a shipped TorchScript student (``mdval/zoo/weights/NAME.pt``).
    init_from: str | None = None
    #: Molecules whose training frames are repeated ``focus_factor`` times per epoch; when
    #: set, validation (selection, early stopping) uses these molecules' val frames only.
    focus_molecules: tuple[str, ...] = ()
    focus_factor: int = 1
    train_dtype: str = "float32"


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def fit_element_energies(frames: FrameSet, elements: list[int]) -> np.ndarray:
    """Least-squares per-element reference energies (eV) from the frames' compositions."""
    a = frames.arrays
    counts = np.zeros((frames.n_frames, len(elements)))
    frame_of_atom = np.repeat(np.arange(frames.n_frames), a["n_atoms"])
    for k, z in enumerate(elements):
        np.add.at(counts[:, k], frame_of_atom[a["numbers"] == z], 1.0)
    coef, *_ = np.linalg.lstsq(counts, a["energy"], rcond=None)
    return coef


def initial_state(path: Path) -> dict[str, torch.Tensor]:
    """The weights to fine-tune from: a state dict file, or a TorchScript student's."""
    with zipfile.ZipFile(path) as archive:
        scripted = any(name.endswith("/constants.pkl") for name in archive.namelist())
    if scripted:
        return dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    state: dict[str, torch.Tensor] = torch.load(path, map_location="cpu", weights_only=True)
    return state


def focus(
    train_set: FrameSet, val_set: FrameSet, names: tuple[str, ...], factor: int
) -> tuple[FrameSet, FrameSet]:
    """Repeat the training frames of ``names`` ``factor`` times; validate on ``names`` only."""
    all_names = train_set.molecule_names()
    unknown = set(names) - set(all_names)
    if unknown:
        raise ValueError(f"unknown focus molecules: {sorted(unknown)}")
    ids = [all_names.index(n) for n in names]
    in_train = np.isin(train_set.arrays["molecule"], ids)
    extra = [train_set.select(in_train) for _ in range(max(factor - 1, 0))]
    merged = train_set
    for part in extra:
        merged = FrameSet(
            {k: np.concatenate([merged.arrays[k], part.arrays[k]]) for k in merged.arrays},
            merged.meta,
        )
    return merged, val_set.select(np.isin(val_set.arrays["molecule"], ids))


def loss_terms(
    model: torch.nn.Module, batch: Batch, cfg: TrainConfig, scale: float, create_graph: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(loss, per-atom energy MSE, force MSE); the loss is frame-weighted by kind and
    normalised by the force scale; the two MSEs are unweighted."""
    energy, forces = energy_and_forces(
        model,
        batch.positions,
        batch.numbers,
        batch.system_index,
        batch.n_systems,
        create_graph=create_graph,
    )
    w = torch.tensor(cfg.kind_weights, dtype=energy.dtype, device=energy.device)[batch.kind]
    e_sq = ((energy - batch.energy) / batch.n_atoms) ** 2
    f_sq = ((forces - batch.forces) ** 2).mean(dim=1)
    e_mse, f_mse = e_sq.mean(), f_sq.mean()
    loss = (
        cfg.energy_weight * (w * e_sq).mean()
        + cfg.force_weight * (w[batch.system_index] * f_sq).mean()
    ) / scale**2
    return loss, e_mse, f_mse


def validate(
    model: torch.nn.Module,
    frames: FrameSet,
    cfg: TrainConfig,
    scale: float,
    device: torch.device,
    dtype: torch.dtype,
) -> dict[str, float]:
    e_sum = f_sum = 0.0
    n_frames = n_atoms = 0
    for batch in frames.batches(64, dtype=dtype):
        batch = _to(batch, device)
        _, e_batch, f_batch = loss_terms(model, batch, cfg, scale, create_graph=False)
        e_sum += e_batch.item() * batch.n_systems
        f_sum += f_batch.item() * len(batch.numbers)
        n_frames += batch.n_systems
        n_atoms += len(batch.numbers)
    e_mse = e_sum / n_frames
    f_mse = f_sum / n_atoms
    return {
        "loss": (cfg.energy_weight * e_mse + cfg.force_weight * f_mse) / scale**2,
        "energy_rmse_meV_per_atom": 1000 * math.sqrt(e_mse),
        "force_rmse_eV_per_A": math.sqrt(f_mse),
    }


def _to(batch: Batch, device: torch.device) -> Batch:
    if device.type == "cpu":
        return batch
    return Batch(
        positions=batch.positions.to(device),
        numbers=batch.numbers.to(device),
        system_index=batch.system_index.to(device),
        n_atoms=batch.n_atoms.to(device),
        energy=batch.energy.to(device),
        forces=batch.forces.to(device),
        kind=batch.kind.to(device),
        frames=batch.frames,
    )


class Progress:
    """A plain progress line: redrawn in place on a terminal, every ~5 % in a log file."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label = total, label
        self.t0 = time.perf_counter()
        self.tty = sys.stdout.isatty()
        self.last_pct = -1

    def update(self, done: int, note: str = "") -> None:
        pct = int(100 * done / max(self.total, 1))
        if not self.tty and pct // 5 == self.last_pct // 5 and done != self.total:
            return
        self.last_pct = pct
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / max(done, 1) * (self.total - done)
        bar = "#" * (pct // 4) + "." * (25 - pct // 4)
        line = f"{self.label} [{bar}] {pct:3d}% {done}/{self.total} eta {eta / 60:.1f} min {note}"
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", flush=True)
        if self.tty and done == self.total:
            print()


def train(
    size: str,
    data_path: Path,
    run_dir: Path,
    *,
    cfg: TrainConfig | None = None,
    weights_dir: Path = WEIGHTS_DIR,
    test_set_path: Path | None = None,
    export_name: str | None = None,
) -> dict[str, Any]:
    """Train (or resume) one size; export best-so-far weights + card periodically and at the end."""
    cfg = cfg or TrainConfig()
    device = _device(cfg.device)
    cfg = replace(cfg, device=str(device))
    spec = SIZES[size]
    export_name = export_name or size
    run_dir.mkdir(parents=True, exist_ok=True)
    dtype = torch.float32 if cfg.train_dtype == "float32" else torch.float64
    torch.manual_seed(cfg.seed)
    # Gaussian radial bases underflow to denormals in float32, which are ~50x slower on CPU.
    torch.set_flush_denormal(True)

    data = FrameSet.load(data_path)
    train_set, val_set = data.split("train"), data.split("val")
    elements = data.elements()
    model = build(spec, elements)
    scale = float(np.sqrt(np.mean(train_set.arrays["forces"] ** 2)))
    model.set_normalisation(torch.tensor(fit_element_energies(train_set, elements)), scale)
    if cfg.focus_molecules:
        train_set, val_set = focus(train_set, val_set, cfg.focus_molecules, cfg.focus_factor)
    if cfg.init_from:
        model.load_state_dict(initial_state(Path(cfg.init_from)))
    model = model.to(device=device, dtype=dtype)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)

    state_path, best_path = run_dir / "state.pt", run_dir / "best.pt"
    st: dict[str, Any] = {
        "epoch": 0,
        "step": 0,
        "best_val": math.inf,
        "best_epoch": -1,
        "wall_s": 0.0,
        "epochs_total": None,
        "history": [],
    }
    if state_path.exists():
        saved = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        st = saved["progress"]
        print(f"[train {size}] resumed at epoch {st['epoch']}", flush=True)
    elif cfg.init_from:
        # A fine-tune must beat its starting point on validation before anything is exported.
        model.eval()
        st["best_val"] = validate(model, val_set, cfg, scale, device, dtype)["loss"]
        st["init_val_metrics"] = validate(model, val_set, cfg, scale, device, dtype)
        print(f"[train {size}] starting point: {st['init_val_metrics']}", flush=True)
    steps_per_epoch = math.ceil(train_set.n_frames / cfg.batch_size)
    print(
        f"[train {size}] {count_parameters(model)} parameters, {train_set.n_frames} train / "
        f"{val_set.n_frames} val frames, {steps_per_epoch} steps per epoch, device {device}",
        flush=True,
    )

    def lr_at(step: int, total: int) -> float:
        return cfg.lr * (cfg.lr_final / cfg.lr) ** min(step / max(total, 1), 1.0)

    def save_state() -> None:
        tmp = state_path.with_name("state.tmp")
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "progress": st,
                "config": asdict(cfg),
                "size": size,
            },
            tmp,
        )
        tmp.replace(state_path)

    def export(status: str) -> None:
        if not best_path.exists():
            return
        publish_best(
            run_dir,
            data,
            size=size,
            progress=st,
            cfg=asdict(cfg),
            status=status,
            weights_dir=weights_dir,
            test_set_path=test_set_path,
            export_name=export_name,
        )
        print(f"[train {size}] exported {export_name} ({status})", flush=True)

    if st["epochs_total"] is None and cfg.max_minutes is None:
        st["epochs_total"] = cfg.epochs
    t_start = time.perf_counter() - st["wall_s"]
    last_export = -math.inf  # export the first improvement, so a loadable set exists early
    stale = st["epoch"] - st["best_epoch"] if st["best_epoch"] >= 0 else 0
    while True:
        epoch = st["epoch"]
        if st["epochs_total"] is not None and epoch >= st["epochs_total"]:
            break
        if stale >= cfg.patience_epochs:
            print(f"[train {size}] early stop: no val improvement in {stale} epochs", flush=True)
            break
        rng = np.random.default_rng([cfg.seed, epoch])
        model.train()
        prog = Progress(steps_per_epoch, f"[{size} epoch {epoch + 1}]")
        run_loss = 0.0
        t_epoch = time.perf_counter()
        for k, batch in enumerate(train_set.batches(cfg.batch_size, rng=rng, dtype=dtype), 1):
            batch = _to(batch, device)
            if st["epochs_total"] is None and k == min(CALIBRATION_STEPS, steps_per_epoch):
                # Calibrate: fix the epoch count from the measured step time (stored in state).
                per_step = (time.perf_counter() - t_epoch) / k
                budget_s = 60 * (cfg.max_minutes or 0.0)
                fit = int(budget_s / (per_step * steps_per_epoch * 1.08))
                st["epochs_total"] = max(1, min(cfg.epochs, fit))
                print(
                    f"[train {size}] {per_step * 1000:.0f} ms/step -> {st['epochs_total']} epochs"
                )
            total = (st["epochs_total"] or cfg.epochs) * steps_per_epoch
            for g in opt.param_groups:
                g["lr"] = lr_at(st["step"], total)
            loss, _, _ = loss_terms(model, batch, cfg, scale, create_graph=True)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            st["step"] += 1
            run_loss += loss.item()
            prog.update(k, f"loss {run_loss / k:.4f} lr {opt.param_groups[0]['lr']:.2e}")
        model.eval()
        val = validate(model, val_set, cfg, scale, device, dtype)
        st["epoch"] = epoch + 1
        st["wall_s"] = time.perf_counter() - t_start
        record = {
            "epoch": epoch + 1,
            "step": st["step"],
            "train_loss": run_loss / steps_per_epoch,
            "lr": opt.param_groups[0]["lr"],
            "wall_s": round(st["wall_s"], 1),
            **val,
        }
        st["history"].append(record)
        improved = val["loss"] < st["best_val"]
        if improved:
            st["best_val"], st["best_epoch"] = val["loss"], epoch + 1
            st["best_val_metrics"] = val
            cpu_state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
            torch.save(cpu_state, best_path.with_name("best.tmp"))
            best_path.with_name("best.tmp").replace(best_path)
            stale = 0
        else:
            stale += 1
        save_state()
        with (run_dir / "log.jsonl").open("a") as f:
            f.write(json.dumps(record) + "\n")
        print(
            f"[train {size}] epoch {epoch + 1}/{st['epochs_total']} val force RMSE "
            f"{val['force_rmse_eV_per_A']:.4f} eV/Å, energy RMSE "
            f"{val['energy_rmse_meV_per_atom']:.2f} meV/atom{' *' if improved else ''}",
            flush=True,
        )
        if improved and time.perf_counter() - last_export > cfg.export_every_s:
            export("checkpoint (training in progress)")
            last_export = time.perf_counter()
    st["finished"] = True
    save_state()
    export("final")
    return st


def publish_best(
    run_dir: Path,
    data: FrameSet,
    *,
    size: str,
    progress: dict[str, Any],
    cfg: dict[str, Any],
    status: str = "final",
    weights_dir: Path = WEIGHTS_DIR,
    test_set_path: Path | None = None,
    export_name: str | None = None,
) -> dict[str, Any]:
    """Export a run's ``best.pt`` to TorchScript with its card into ``weights_dir``."""
    from mdval.zoo.publish import publish

    best = build(SIZES[size], data.elements())
    best.load_state_dict(torch.load(run_dir / "best.pt", map_location="cpu", weights_only=True))
    return publish(
        best,
        export_name or size,
        size=size,
        status=status,
        progress=progress,
        cfg=cfg,
        data=data,
        weights_dir=weights_dir,
        test_set_path=test_set_path,
        timing_repeats=int(cfg.get("timing_repeats", 100)),
        time_two_threads=status == "final",
    )


def publish_run(
    run_dir: Path,
    data_path: Path,
    *,
    weights_dir: Path = WEIGHTS_DIR,
    test_set_path: Path | None = None,
    export_name: str | None = None,
) -> dict[str, Any]:
    """Publish a finished run (trained into another ``weights_dir``) as it would have been
    published at its end: its best weights, a card from its saved state, timed afresh."""
    state_path = run_dir / "state.pt"
    if not state_path.exists() or not (run_dir / "best.pt").exists():
        raise FileNotFoundError(f"{run_dir} holds no training run (state.pt and best.pt)")
    if not data_path.exists():
        raise FileNotFoundError(f"no teacher data at {data_path}; run `mdval zoo data` first")
    saved = torch.load(state_path, map_location="cpu", weights_only=False)
    if not saved["progress"].get("finished"):
        raise ValueError(f"the run in {run_dir} has not finished; resume it with `zoo train`")
    return publish_best(
        run_dir,
        FrameSet.load(data_path),
        size=saved["size"],
        progress=saved["progress"],
        cfg=saved["config"],
        weights_dir=weights_dir,
        test_set_path=test_set_path,
        export_name=export_name,
    )
