"""Saliency: Grad-CAM maps that show which part of an image drove a prediction, and their PNGs.

Checked against the synthetic scans, whose lesion positions are known: the peak of the
map falls on the lesion far more often than a random point would (see the tests).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def gradcam(network: Any, pixel_values: Any, task: str, target: int | None = None) -> np.ndarray:
    """Grad-CAM maps (N x H x W, each scaled to [0, 1]) on the deepest backbone stage still >= 7 x 7.

    Small inputs (32-64 px) leave the last stage at 1-2 pixels, too coarse to show a
    lesion, so the stage is picked from timm's ``feature_info`` by resolution. The
    explained score is the disease logit margin (binary), the predicted class
    (multi-class) or label ``target`` / the most probable label (multi-label).
    """
    import torch

    layer = _cam_layer(network.backbone, pixel_values.shape[-1])
    captured = {}
    hook = layer.register_forward_hook(lambda module, args, output: captured.update(features=output))
    network.eval()
    try:
        with torch.enable_grad():
            logits = network(pixel_values=pixel_values.detach().requires_grad_(True))["logits"]
            if task == "binary" and logits.shape[1] == 2:
                score = logits[:, 1] - logits[:, 0]
            else:
                index = logits.argmax(dim=1) if target is None else torch.full((len(logits),), target)
                score = logits.gather(1, index[:, None]).squeeze(1)
            features = captured["features"]
            (gradient,) = torch.autograd.grad(score.sum(), features)
    finally:
        hook.remove()
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * features).sum(dim=1, keepdim=True)).detach()
    cam = torch.nn.functional.interpolate(cam, size=pixel_values.shape[-2:], mode="bilinear", align_corners=False)
    cam = cam[:, 0].float().cpu().numpy()
    peak = cam.reshape(len(cam), -1).max(axis=1)[:, None, None]
    return cam / np.maximum(peak, 1e-12)


def _cam_layer(backbone: Any, side: int) -> Any:
    modules = dict(backbone.named_modules())
    stages = [f for f in getattr(backbone, "feature_info", []) if f.get("module") in modules]
    fine = [f for f in stages if side // f["reduction"] >= 7] or stages[:1]
    if not fine:
        raise ValueError(f"{type(backbone).__name__} has no timm feature_info to place Grad-CAM on")
    return modules[fine[-1]["module"]]


def saliency_pngs(network: Any, images: list[np.ndarray], transform: Any, task: str, folder: Path, *,
                  names: list[str], titles: list[str] | None = None) -> list[Path]:
    """Write one PNG per image (the image beside its Grad-CAM overlay); returns the paths.

    A map never replaces a file: two images of one name (``a/x.png``, ``b/x.png``), or a name whose
    map an earlier call wrote, get ``saliency-x-2.png``, ``-3``... instead.
    """
    import torch
    from matplotlib.figure import Figure

    from suite.diagnostics.transforms import to_pil

    folder.mkdir(parents=True, exist_ok=True)
    weight = next(network.parameters())
    batch = torch.stack([transform(to_pil(image)) for image in images]).to(weight.device, weight.dtype)
    maps = gradcam(network, batch, task)
    paths = []
    targets = _unused_names(folder, [f"saliency-{name}" for name in names])
    for i, (image, heat) in enumerate(zip(batch, maps)):
        shown = image.permute(1, 2, 0).float().cpu().numpy()
        shown = (shown - shown.min()) / max(float(shown.max() - shown.min()), 1e-9)
        fig = Figure(figsize=(6, 3.2), dpi=110)
        left, right = fig.subplots(1, 2)
        left.imshow(shown)
        right.imshow(shown)
        right.imshow(heat, cmap="jet", alpha=0.45, vmin=0, vmax=1)
        for ax, title in ((left, titles[i] if titles else names[i]), (right, "Grad-CAM")):
            ax.set_title(title, fontsize=8)
            ax.axis("off")
        fig.tight_layout()
        path = targets[i]
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
        paths.append(path)
    return paths


def _unused_names(folder: Path, stems: list[str]) -> list[Path]:
    """One PNG path per stem in ``folder``, none existing yet and no two the same."""
    chosen = []
    for stem in stems:
        n = 1
        while True:
            path = folder / (f"{stem}.png" if n == 1 else f"{stem}-{n}.png")
            try:        # reserve the name: fails if any process, this one included, has it already
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                break
            except FileExistsError:
                n += 1
        chosen.append(path)
    return chosen
