"""The pull-back metric g = J^T J of the paper generator at one latent point, against the usual ways of getting J.

    python benchmarks/bench_geometry.py [--quick] [--device cpu|cuda] [--rows N]

Generator: cosmogan_nb.model.Generator() (latent 64, 1 x 256 x 256, 12.8M parameters; a replica of the paper's
architecture if the model module is missing), weights N(0, 0.02), BatchNorm statistics calibrated, eval mode.
`--quick` uses latent 16, 64 x 64, width 0.125. Timed round-robin (so machine load hits all alike), medians of repeats
after a warm-up (Lanczos: one run):
  * ours:      `cosmogan_nb.geometry.metric_tensor(G, z)`: forward-mode JVPs vmapped over chunks of 16 latent directions;
               also with all directions at once, with a 4096-pixel subsample (1024 in quick), and the top-5 spectrum by Lanczos;
  * baseline a: one forward pass, then a backward pass per output pixel (`torch.autograd.grad` of one output entry),
               timed on a random subsample of rows and extrapolated to all D outputs (what a per-pixel loop costs);
  * baseline b: `torch.autograd.functional.jacobian(..., vectorize=True, strategy='forward-mode')` (its default
               reverse mode without vectorize is baseline a; reverse mode with vectorize would batch D backward passes);
  * floor:     one no-grad forward pass at batch 64 (64 JVPs carry 64 tangents: the same work plus the dual parts).
Checks that the three Jacobians agree. Writes benchmarks/results/geometry.json (machine, versions, date, device).
"""
from __future__ import annotations
import argparse, datetime, json, os, platform, sys, tempfile, time
from pathlib import Path

import numpy as np
import scipy
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cosmogan_nb.geometry import jacobian, metric_tensor, metric_spectrum
from cosmogan_nb.data import atomic_write_bytes

RESULTS = Path(__file__).resolve().parent / 'results' / 'geometry.json'


def _replica(latent_dim: int, size: int, width: float) -> nn.Module:
    "The paper's generator (SPEC section 2) if cosmogan_nb.model is not available."
    s0, c = size // 16, int(512 * width)
    layers = [nn.Linear(latent_dim, c * s0 * s0), nn.Unflatten(1, (c, s0, s0)), nn.BatchNorm2d(c), nn.ReLU()]
    for _ in range(3): layers += [nn.ConvTranspose2d(c, c // 2, 5, 2, 2, output_padding=1), nn.BatchNorm2d(c // 2), nn.ReLU()]; c //= 2
    G = nn.Sequential(*layers, nn.ConvTranspose2d(c, 1, 5, 2, 2, output_padding=1), nn.Tanh())
    for m in G.modules():
        if isinstance(m, (nn.Linear, nn.ConvTranspose2d)): nn.init.normal_(m.weight, 0, 0.02); nn.init.zeros_(m.bias)
    G.latent_dim = latent_dim
    return G


def make_generator(latent_dim: int, size: int, width: float, device: torch.device) -> tuple[nn.Module, str]:
    "Paper-architecture generator with calibrated BatchNorm, eval mode, no parameter gradients."
    torch.manual_seed(0)
    try:
        from cosmogan_nb.model import Generator
        G, source = Generator(latent_dim=latent_dim, size=size, width=width), 'cosmogan_nb.model.Generator'
    except ImportError: G, source = _replica(latent_dim, size, width), 'replica (cosmogan_nb.model missing)'
    for m in G.modules():
        if isinstance(m, nn.BatchNorm2d): m.reset_running_stats(); m.momentum = None
    G.train()
    with torch.no_grad(): G(torch.randn(16, latent_dim))
    return G.eval().requires_grad_(False).to(device), source


def _round_robin(fns: dict, repeats: int, sync) -> dict:
    "Median and min seconds of each function, called in turn `repeats` times."
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter(); fn(); sync(); times[k].append(time.perf_counter() - t0)
    return {k: dict(median=float(np.median(t)), min=float(np.min(t)), runs=len(t)) for k, t in times.items()}


def main(quick: bool = False, device: str = 'cpu', rows: int | None = None, repeats: int | None = None, out: str | Path | None = None) -> dict:
    "Time the metric of the paper generator at one point by our JVP route and the baselines; print a table, write results JSON."
    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    latent_dim, size, width = (16, 64, 0.125) if quick else (64, 256, 1.0)
    rows = rows or (16 if quick else 32)
    repeats = repeats or 3
    n_pix = 1024 if quick else 4096
    G, source = make_generator(latent_dim, size, width, dev)
    z = torch.randn(latent_dim, generator=torch.Generator().manual_seed(1)).to(dev)
    zb64 = torch.randn(64, latent_dim, generator=torch.Generator().manual_seed(2)).to(dev)
    D = size * size
    idx = torch.randperm(D, generator=torch.Generator().manual_seed(3))[:rows]

    def backward_rows():
        "Forward once, then one backward pass per sampled output entry: rows of J."
        zr = z[None].clone().requires_grad_(True)
        y = G(zr).reshape(-1)
        return torch.stack([torch.autograd.grad(y[i], zr, retain_graph=True)[0][0] for i in idx.tolist()])

    flat = lambda x: G(x[None]).reshape(-1)
    autograd_jac = lambda: torch.autograd.functional.jacobian(flat, z, vectorize=True, strategy='forward-mode')
    fns = {'forward batch 64': lambda: G(zb64).sum(),
           'ours: metric_tensor (chunks of 16)': lambda: metric_tensor(G, z, chunk_size=16),
           'ours: metric_tensor (all directions)': lambda: metric_tensor(G, z, chunk_size=None),
           f'ours: {n_pix}-pixel subsample': lambda: metric_tensor(G, z, pixels=n_pix),
           'b: autograd.functional.jacobian': autograd_jac,
           f'a: backward loop, {rows} rows': backward_rows}
    # warm-up: small calls of every kind of kernel (a full warm-up of the large calls would double the run time)
    with torch.no_grad(): G(zb64[:2])
    jacobian(G, z, chunk_size=2, pixels=16)
    zr = z[None].clone().requires_grad_(True); torch.autograd.grad(G(zr).reshape(-1)[0], zr)
    t0 = time.perf_counter()
    with torch.no_grad(): fwd_only = {'forward batch 64': fns.pop('forward batch 64')}
    T = _round_robin(fns, repeats, sync)
    with torch.no_grad(): T.update(_round_robin(fwd_only, repeats, sync))
    T.update(_round_robin({'ours: top-5 spectrum (Lanczos)': lambda: metric_spectrum(G, z, k=5, method='lanczos', tol=1e-4)}, 1, sync))
    wall = time.perf_counter() - t0

    # agreement of the three Jacobians (and metrics)
    J = jacobian(G, z)
    J_b = autograd_jac()
    J_a = backward_rows()
    g, g_b = J.T @ J, J_b.T @ J_b
    w_full = torch.linalg.eigvalsh(g).flip(0)
    w_sub = torch.linalg.eigvalsh(metric_tensor(G, z, pixels=n_pix)).flip(0)
    w_lanczos = metric_spectrum(G, z, k=5, method='lanczos', tol=1e-4)
    checks = dict(jacobian_b_max_rel=float((J_b - J).abs().max() / J.abs().max()),
                  jacobian_a_rows_max_rel=float((J_a - J[idx]).abs().max() / J.abs().max()),
                  metric_b_max_rel=float((g_b - g).abs().max() / g.abs().max()),
                  lanczos_top5_max_rel=float(((w_lanczos - w_full[:5]).abs() / w_full[:5]).max()),
                  subsample_top5_rel=[float(x) for x in (w_sub[:5] / w_full[:5] - 1)],
                  top_eigenvalues=[float(x) for x in w_full[:5]], condition_number=float(w_full[0] / w_full[-1]))

    ours = T['ours: metric_tensor (chunks of 16)']['median']
    loop = T[f'a: backward loop, {rows} rows']['median']
    fwd1 = _round_robin({'forward batch 1': lambda: G(z[None])}, 3, sync)['forward batch 1']['median']
    loop_all = fwd1 + (loop - fwd1) / rows * D                     # one forward + D backward passes
    times = {k: v['median'] for k, v in T.items()}
    times['a: backward loop, all pixels (extrapolated)'] = loop_all
    ratios = {'a (backward loop, extrapolated) / ours': loop_all / ours,
              'b (autograd.functional.jacobian) / ours': times['b: autograd.functional.jacobian'] / ours,
              'ours / forward batch 64': ours / times['forward batch 64'],
              'ours (all directions) / ours (chunks of 16)': times['ours: metric_tensor (all directions)'] / ours,
              f'{n_pix}-pixel subsample / ours': times[f'ours: {n_pix}-pixel subsample'] / ours,
              'Lanczos top-5 / ours': times['ours: top-5 spectrum (Lanczos)'] / ours}

    print(f"\nmetric of the paper generator ({source}), latent {latent_dim}, {size}x{size}, width {width}, "
          f"one point, {dev}, {torch.get_num_threads()} threads; medians of {repeats}")
    print(f"{'method':<48} {'seconds':>10}")
    for k, v in sorted(times.items(), key=lambda kv: kv[1]): print(f"{k:<48} {v:>10.3f}")
    print(f"\n{'ratio':<48} {'value':>10}")
    for k, v in ratios.items(): print(f"{k:<48} {v:>10.2f}")
    print('\nchecks:', {k: (round(v, 8) if isinstance(v, float) else v) for k, v in checks.items()})

    res = dict(benchmark='geometry', quick=quick, generator=dict(source=source, latent_dim=latent_dim, size=size, width=width,
               parameters=sum(p.numel() for p in G.parameters())), rows_sampled=rows, pixels_subsampled=n_pix, repeats=repeats,
               seconds=times, timings=T, ratios=ratios, checks=checks, wall_seconds=wall,
               machine=dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                            python=platform.python_version(), platform=platform.platform(), cpu_count=os.cpu_count(),
                            torch=torch.__version__, numpy=np.__version__, scipy=scipy.__version__,
                            torch_threads=torch.get_num_threads(), load_average_1min=os.getloadavg()[0],
                            device=torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'cpu'))
    out = Path(out) if out else RESULTS
    atomic_write_bytes(out, json.dumps(res, indent=1).encode())
    print(f'wrote {out}')
    return res


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='latent 16, 64x64, width 0.125 instead of the paper size')
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    ap.add_argument('--rows', type=int, default=None, help='output rows timed for the backward-loop baseline')
    ap.add_argument('--repeats', type=int, default=None)
    ap.add_argument('--out', default=None, help='results JSON (default benchmarks/results/geometry.json)')
    a = ap.parse_args()
    main(a.quick, a.device, a.rows, a.repeats, a.out)
