"""Forward-pass timings of cosmogan_nb.model's Generator and Discriminator.

    python benchmarks/bench_model.py [--quick] [--device cpu|cuda]

For each (size, width, batch) the median of repeated no-grad eval-mode forward passes (after warm-up) of
  * ours:     `Generator(z)` / `Discriminator(x)` (input checks, parameter normalisation, projection),
  * baseline: the same layers called as a bare `nn.Sequential` (what a hand-written DCGAN costs),
and ratios ours / baseline (wrapper overhead) and channels_last / contiguous, the per-map cost of batch 64 against
batch 1, and the throughput in GFLOP/s (FLOPs counted by torch.utils.flop_counter). On a shared machine the
median is dominated by the load (recorded as load_average_1min); the best time shows what the code itself costs. Writes
benchmarks/results/model.json (machine, versions, date, device).
"""
from __future__ import annotations
import argparse, copy, datetime, json, os, platform, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cosmogan_nb
from cosmogan_nb.data import atomic_write_bytes
from cosmogan_nb.model import Generator, Discriminator

RESULTS = Path(__file__).resolve().parent / "results" / "model.json"


def _median_times(fns: list, device: torch.device, min_repeats: int = 3, max_repeats: int = 25, budget_s: float = 1.0) -> list[tuple[float, float]]:
    "(median, min) seconds of each of `fns`, called round-robin (so machine load hits all alike) after one warm-up call each."
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times = [[] for _ in fns]
    with torch.no_grad():
        for fn in fns: fn()
        sync()
        while len(times[0]) < min_repeats or (len(times[0]) < max_repeats and sum(map(sum, times)) < budget_s):
            for fn, t in zip(fns, times):
                t0 = time.perf_counter(); fn(); sync(); t.append(time.perf_counter() - t0)
    return [(float(np.median(t)), float(np.min(t))) for t in times]


def _flops(fn) -> int:
    "FLOPs of one call of `fn` (multiply-adds count 2)."
    with torch.no_grad(), FlopCounterMode(display=False) as fc: fn()
    return int(fc.get_total_flops())


def bench_case(kind: str, size: int, width: float, batch: int, device: torch.device, budget_s: float = 1.0) -> dict:
    "Time one model at one batch size: ours, bare-Sequential baseline, channels_last."
    torch.manual_seed(0)
    if kind == "Generator":
        m = Generator(size=size, width=width).to(device).eval()
        inp = torch.randn(batch, m.latent_dim, device=device)
        ours, base = (lambda: m(inp)), (lambda: m.net(inp))
    else:
        m = Discriminator(size=size, width=width).to(device).eval()
        inp = torch.rand(batch, m.channels, size, size, device=device) * 2 - 1
        ours, base = (lambda: m(inp)), (lambda: m.head(m.features(inp).flatten(1)))
    m_cl = copy.deepcopy(m).to(memory_format=torch.channels_last)
    inp_cl = inp.contiguous(memory_format=torch.channels_last) if inp.ndim == 4 else inp
    (t_ours, best), (t_base, _), (t_cl, _) = _median_times([ours, base, lambda: m_cl(inp_cl)], device, budget_s=budget_s)
    flops = _flops(ours)
    return dict(kind=kind, size=size, width=width, batch=batch, params=sum(p.numel() for p in m.parameters()),
                seconds=t_ours, best_seconds=best, baseline_seconds=t_base, channels_last_seconds=t_cl,
                ms_per_map=1e3 * t_ours / batch, gflop_per_map=flops / batch / 1e9, gflops=flops / t_ours / 1e9,
                ratio_vs_baseline=t_ours / t_base, ratio_channels_last=t_cl / t_ours)


def _cases(quick: bool) -> list[tuple[int, float]]:
    "(size, width, batches) grid; quick keeps every pass well under a second on 2 CPU cores."
    if quick: return [(64, 0.25, (1, 64)), (128, 0.25, (1, 64)), (256, 0.25, (1,))]
    return [(64, 0.25, (1, 64)), (64, 1.0, (1, 64)), (128, 0.5, (1, 64)), (256, 0.25, (1, 64)), (256, 1.0, (1, 8)), (512, 0.25, (1,))]


def main(quick: bool = False, device: str | None = None, out: str | Path | None = RESULTS, threads: int | None = None) -> dict:
    "Run the benchmark, print a table, write JSON to `out`; returns the result dict."
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    budget_s = 0.3 if quick else 3.0
    if threads: torch.set_num_threads(threads)
    rows = []
    for size, width, batches in _cases(quick):
        for kind in ("Generator", "Discriminator"):
            for batch in batches:
                rows.append(bench_case(kind, size, width, batch, dev, budget_s))
    for r in rows:   # per-map cost at batch 64 relative to batch 1
        one = next(o for o in rows if (o["kind"], o["size"], o["width"], o["batch"]) == (r["kind"], r["size"], r["width"], 1))
        r["per_map_ratio_vs_batch1"] = r["ms_per_map"] / one["ms_per_map"]
    print(f"{'model':<14}{'size':>5}{'width':>6}{'batch':>6}{'params':>11}{'ms':>10}{'best ms':>9}{'ms/map':>9}{'GFLOP/map':>10}"
          f"{'GFLOP/s':>9}{'/bare':>7}{'CL/NCHW':>8}{'/b1':>6}")
    for r in rows:
        print(f"{r['kind']:<14}{r['size']:>5}{r['width']:>6g}{r['batch']:>6}{r['params']:>11,}{1e3 * r['seconds']:>10.1f}{1e3 * r['best_seconds']:>9.1f}"
              f"{r['ms_per_map']:>9.2f}{r['gflop_per_map']:>10.3f}{r['gflops']:>9.1f}{r['ratio_vs_baseline']:>7.2f}"
              f"{r['ratio_channels_last']:>8.2f}{r['per_map_ratio_vs_batch1']:>6.2f}")
    result = dict(module="model", quick=quick, date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  device=str(dev) if dev.type == "cpu" else f"{dev} ({torch.cuda.get_device_name(dev)})",
                  machine=dict(platform=platform.platform(), processor=platform.processor() or platform.machine(),
                               cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(),
                               load_average_1min=os.getloadavg()[0] if hasattr(os, "getloadavg") else None),
                  versions=dict(python=platform.python_version(), torch=torch.__version__, numpy=np.__version__,
                                cosmogan_nb=getattr(cosmogan_nb, "__version__", "?")),
                  budget_s_per_case=budget_s, method="median of 3-25 round-robin repeats (ours, baseline, channels_last) after 1 warm-up; no_grad, eval mode; baseline = same layers as bare nn.Sequential",
                  results=rows)
    if out is not None:
        out = atomic_write_bytes(out, json.dumps(result, indent=1).encode())
        print(f"wrote {out}")
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small grid that runs well under a minute")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--out", default=str(RESULTS), help="JSON output path")
    a = ap.parse_args()
    main(quick=a.quick, device=a.device, out=a.out, threads=a.threads)
