"""Training throughput of cosmogan_nb.training against a plain PyTorch GAN loop of the same architecture.

    python benchmarks/bench_training.py [--quick] [--threads N]

For each case (map size, model width, batch) and in the same process, alternating rounds (so the machine load hits both alike):
  * ours:     `train(config)` (in-memory dataset, EMA, label swap, per-step seeded schedule, loss accumulation on the device,
              logging every `steps` steps); samples/s of the timed logging interval after a warm-up interval,
  * baseline: the textbook DCGAN loop written below (same Generator/Discriminator classes, same data, same batch, Adam,
              BCE-with-logits, random batches, `loss.item()` every step), timed over the same number of steps after the same warm-up.
Reports the median samples/s (generator steps x batch / s) of each and the ratio ours / baseline. Writes benchmarks/results/training.json.
"""
from __future__ import annotations
import argparse, datetime, json, os, platform, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cosmogan_nb
from cosmogan_nb.data import atomic_write_bytes
from cosmogan_nb.data import load_maps, make_dataset, transform_from_dict
from cosmogan_nb.model import Discriminator, Generator
from cosmogan_nb.training import preset, train

RESULTS = Path(__file__).resolve().parent / "results" / "training.json"


def plain_loop(x_all: torch.Tensor, size: int, width: float, batch: int, warmup: int, steps: int, device) -> float:
    "A plain PyTorch DCGAN loop (cosmoGAN recipe): samples/s over `steps` steps after `warmup` steps."
    torch.manual_seed(0)
    G, D = Generator(size=size, width=width).to(device), Discriminator(size=size, width=width).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x_all = x_all.to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    def step():
        real = x_all[torch.randint(len(x_all), (batch,), device=device)]
        fake = G(torch.randn(batch, G.latent_dim, device=device))
        d_real, d_fake = D(real), D(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad(); loss_d.backward(); opt_d.step()
        d_gen = D(fake)
        loss_g = F.binary_cross_entropy_with_logits(d_gen, torch.ones_like(d_gen))
        opt_g.zero_grad(); loss_g.backward(); opt_g.step()
        return loss_d.item(), loss_g.item()
    for _ in range(warmup): step()
    sync(); t0 = time.perf_counter()
    for _ in range(steps): step()
    sync()
    return steps * batch / (time.perf_counter() - t0)


def ours(data: Path, size: int, width: float, batch: int, steps: int, out: Path, threads: int | None, device: str) -> float:
    "`train` with logging every `steps` steps: samples/s of the second (timed) interval."
    # the baseline's architecture and loss (the paper's G and D, BCE), not the quick preset's choices beyond the paper
    cfg = preset("quick", data=str(data), size=size, width=width, batch_size=batch, max_steps=2 * steps, log_every=steps, eval_every=0,
                 checkpoint_every=10 ** 9, minutes=None, threads=threads, device=device, loss="bce", spectral_norm=False,
                 g_upsample="transpose", g_conditioning="input", d_pixel_quantiles=0, lr_decay_start=1.0)
    res = train(cfg, out, overwrite=True, progress=False)
    return res.metrics[-1]["samples_per_s"]


def _cases(quick: bool) -> list[tuple[int, float, int, int, int]]:
    "(size, width, batch, steps per interval, rounds)."
    if quick: return [(64, 0.125, 64, 4, 3)]
    return [(64, 0.125, 64, 20, 5), (128, 0.25, 32, 8, 3), (256, 1.0, 8, 2, 2)]


def main(quick: bool = False, threads: int | None = 1, device: str | None = None, out: str | Path | None = RESULTS) -> dict:
    "Run the benchmark, print a table, write JSON to `out`; returns the result dict."
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if threads: torch.set_num_threads(threads)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size, width, batch, steps, rounds in _cases(quick):
            data = make_dataset("wl", tmp / f"wl{size}.h5", n_maps=max(2 * batch, 96), size=size, seed=0, progress=False)
            maps, _, attrs = load_maps(data)
            x_all = torch.as_tensor(transform_from_dict(attrs["transform"]).forward(maps), dtype=torch.float32)
            a, b = [], []
            for _ in range(rounds):
                a.append(ours(data, size, width, batch, steps, tmp / "run", threads, str(dev)))
                b.append(plain_loop(x_all, size, width, batch, steps, steps, dev))
            rows.append(dict(size=size, width=width, batch=batch, steps=steps, rounds=rounds, ours_samples_per_s=float(np.median(a)),
                             baseline_samples_per_s=float(np.median(b)), ratio=float(np.median(a) / np.median(b)), ours_all=a, baseline_all=b))
    print(f"{'size':>5}{'width':>7}{'batch':>6}{'ours samples/s':>16}{'plain samples/s':>17}{'ours/plain':>11}")
    for r in rows:
        print(f"{r['size']:>5}{r['width']:>7g}{r['batch']:>6}{r['ours_samples_per_s']:>16.1f}{r['baseline_samples_per_s']:>17.1f}{r['ratio']:>11.2f}")
    result = dict(module="training", quick=quick, date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  device=str(dev) if dev.type == "cpu" else f"{dev} ({torch.cuda.get_device_name(dev)})",
                  machine=dict(platform=platform.platform(), processor=platform.processor() or platform.machine(), cpu_count=os.cpu_count(),
                               torch_threads=torch.get_num_threads(), load_average_1min=os.getloadavg()[0] if hasattr(os, "getloadavg") else None),
                  versions=dict(python=platform.python_version(), torch=torch.__version__, numpy=np.__version__, cosmogan_nb=getattr(cosmogan_nb, "__version__", "?")),
                  method="median over alternating rounds; each round: ours = train() timed over one logging interval after a warm-up interval, "
                         "baseline = plain DCGAN loop (same models, data, batch) timed over the same number of steps after the same warm-up",
                  results=rows)
    if out is not None:
        out = atomic_write_bytes(out, json.dumps(result, indent=1).encode())
        print(f"wrote {out}")
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one small case, well under a minute")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads for both loops (default 1; 0 = torch's choice)")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    ap.add_argument("--out", default=str(RESULTS), help="JSON output path")
    a = ap.parse_args()
    main(quick=a.quick, threads=a.threads or None, device=a.device, out=a.out)
