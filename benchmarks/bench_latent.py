"""Latency of cosmogan_nb.latent's interpolation and live explorer.

    python benchmarks/bench_latent.py [--quick] [--device cpu|cuda] [--threads N]

For each generator size, medians of repeated calls (after warm-up, round-robin so machine load hits all alike) of
  * ours:     `interpolate(G, z0, z1, steps)`: the whole path as one batched, no-grad, eval-mode call,
  * baseline: the same path generated one latent at a time (what a slider callback that calls G per move costs),
and the explorer's response times: a new path (endpoints or parameters changed: generate the batch + spectra + first frame),
a slider move to a point of the cached path not yet drawn (PNG of the map and of its spectrum), and a slider move back to a
drawn point (cache hit). Writes benchmarks/results/latent.json (machine, versions, date, device).
"""
from __future__ import annotations
import argparse, datetime, json, os, platform, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import cosmogan_nb
from cosmogan_nb.data import atomic_write_bytes
from cosmogan_nb.model import Generator
from cosmogan_nb.latent import interpolate, latent_path, generate, InterpolationExplorer

RESULTS = Path(__file__).resolve().parent / "results" / "latent.json"


def _medians(fns: list, sync, min_repeats: int = 3, max_repeats: int = 15, budget_s: float = 1.0) -> list[float]:
    "Median seconds of each of `fns`, called round-robin after one warm-up call each."
    times = [[] for _ in fns]
    for fn in fns: fn()
    sync()
    while len(times[0]) < min_repeats or (len(times[0]) < max_repeats and sum(map(sum, times)) < budget_s):
        for fn, t in zip(fns, times):
            t0 = time.perf_counter(); fn(); sync(); t.append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times]


def bench_case(size: int, width: float, steps: int, device: torch.device, budget_s: float) -> dict:
    "Path generation (batched vs one by one) and explorer response times for one generator."
    torch.manual_seed(0)
    G = Generator(latent_dim=64, size=size, width=width).to(device).eval()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    z0, z1 = torch.randn(2, 64)
    zs = latent_path(z0, z1, steps)
    one_by_one = lambda: torch.cat([generate(G, z[None]) for z in zs])
    t_ours, t_base = _medians([lambda: interpolate(G, z0, z1, steps), one_by_one], sync, budget_s=budget_s)

    ex = InterpolationExplorer(G, steps=steps, n_seeds=2 + 2 * 50)          # the constructor draws seed 0 -> seed 1
    pairs = iter([(f'seed {2 * i}', f'seed {2 * i + 1}') for i in range(1, 51)])
    def new_path():
        a, b = next(pairs); ex.end.value = b; ex.start.value = a             # two uncached paths: time both, report half
    t0 = time.perf_counter(); new_path(); sync(); t_path = (time.perf_counter() - t0) / 2
    idx = iter(range(1, steps))
    def new_frame(): ex.t.value = next(idx) / (steps - 1)
    t_frames = []
    for _ in range(min(5, steps - 1)):
        t0 = time.perf_counter(); new_frame(); t_frames.append(time.perf_counter() - t0)
    drawn = [ex.t.value, 0.0]
    def cached_move(): ex.t.value = drawn[0] if ex.t.value != drawn[0] else drawn[1]
    t_cached, = _medians([cached_move], sync, min_repeats=5, budget_s=0.2)
    return dict(size=size, width=width, steps=steps, params=sum(p.numel() for p in G.parameters()),
                interpolate_s=t_ours, one_by_one_s=t_base, speedup_vs_one_by_one=t_base / t_ours,
                explorer_new_path_s=t_path, explorer_new_frame_s=float(np.median(t_frames)), explorer_cached_move_s=t_cached)


def _cases(quick: bool) -> list[tuple[int, float, int]]:
    "(size, width, steps): quick stays well under a minute on 2 CPU cores."
    if quick: return [(64, 0.25, 9), (128, 0.25, 9)]
    return [(64, 0.25, 33), (128, 0.5, 33), (256, 0.25, 33), (256, 1.0, 33)]


def main(quick: bool = False, device: str | None = None, out: str | Path | None = RESULTS, threads: int | None = None) -> dict:
    "Run the benchmark, print a table, write JSON to `out`; returns the result dict."
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if threads: torch.set_num_threads(threads)
    budget_s = 0.2 if quick else 3.0
    rows = [bench_case(size, width, steps, dev, budget_s) for size, width, steps in _cases(quick)]
    print(f"{'size':>5}{'width':>6}{'steps':>6}{'params':>12}{'batched ms':>12}{'1-by-1 ms':>11}{'speedup':>9}"
          f"{'new path ms':>13}{'new frame ms':>14}{'cached ms':>11}")
    for r in rows:
        print(f"{r['size']:>5}{r['width']:>6g}{r['steps']:>6}{r['params']:>12,}{1e3 * r['interpolate_s']:>12.1f}{1e3 * r['one_by_one_s']:>11.1f}"
              f"{r['speedup_vs_one_by_one']:>9.2f}{1e3 * r['explorer_new_path_s']:>13.1f}{1e3 * r['explorer_new_frame_s']:>14.1f}"
              f"{1e3 * r['explorer_cached_move_s']:>11.2f}")
    result = dict(module="latent", quick=quick, date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  device=str(dev) if dev.type == "cpu" else f"{dev} ({torch.cuda.get_device_name(dev)})",
                  machine=dict(platform=platform.platform(), processor=platform.processor() or platform.machine(),
                               cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(),
                               load_average_1min=os.getloadavg()[0] if hasattr(os, "getloadavg") else None),
                  versions=dict(python=platform.python_version(), torch=torch.__version__, numpy=np.__version__,
                                cosmogan_nb=getattr(cosmogan_nb, "__version__", "?")),
                  method="medians of round-robin repeats after 1 warm-up (interpolate vs one-by-one); explorer: one new path "
                         "(mean of 2), median of 5 new frames, median of cached slider moves; untrained generators, latent_dim 64",
                  results=rows)
    if out is not None:
        out = atomic_write_bytes(out, json.dumps(result, indent=1).encode())
        print(f"wrote {out}")
    return result


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small generators, well under a minute")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--out", default=str(RESULTS), help="JSON output path")
    a = ap.parse_args()
    main(quick=a.quick, device=a.device, out=a.out, threads=a.threads)
