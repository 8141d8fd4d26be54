"""Benchmark of `cosmogan_nb.statistics` against a straightforward per-map numpy implementation of the same definitions.

For every map: power spectrum, cross spectrum and r(k) with a second map, pixel PDF, Minkowski functionals (50 threshold
bins) and peak counts. The baseline below loops over maps and, inside the Minkowski functionals, over thresholds, the way
lenstools does (about 30 ms per 256^2 map for spectrum + functionals + peaks + PDF). Run:
    python benchmarks/bench_statistics.py [--quick] [--maps N] [--size N] [--device cpu|cuda]
"""
from __future__ import annotations
import argparse, json, os, platform, sys, tempfile, time
from datetime import datetime, timezone
from pathlib import Path
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout without installing
from cosmogan_nb import statistics as S
from cosmogan_nb.data import atomic_write_bytes

# --- the baseline: one map at a time, plain numpy, the same definitions -----------------------------------------------

def _np_power(m1, m2, edges):
    "Binned (cross) spectrum of one map in pixel units, rfft weights 1 on the ky=0 and ky=N/2 columns and 2 elsewhere."
    n = m1.shape[0]
    f1, f2 = np.fft.rfft2(m1), np.fft.rfft2(m2)
    kx, ky = np.meshgrid(2 * np.pi * np.fft.fftfreq(n), 2 * np.pi * np.fft.rfftfreq(n), indexing='ij')
    k = np.hypot(kx, ky)
    w = np.full(k.shape, 2.0); w[:, 0] = 1; w[:, -1] = 1
    p = (f1 * f2.conj()).real * w
    modes, _ = np.histogram(k, edges, weights=w)
    s, _ = np.histogram(k, edges, weights=p)
    return s / np.maximum(modes, 1) * (n / n**2) ** 2

def _np_minkowski(m, edges):
    "lenstools minkowski.c, vectorised over pixels, looping over thresholds."
    r = lambda a, dy, dx: np.roll(m, (-dy, -dx), (0, 1))
    gx, gy = (r(m, 0, 1) - r(m, 0, -1)) / 2, (r(m, 1, 0) - r(m, -1, 0)) / 2
    hxx = (r(m, 0, 2) + r(m, 0, -2) - 2 * m) / 4
    hyy = (r(m, 2, 0) + r(m, -2, 0) - 2 * m) / 4
    hxy = (r(m, 1, 1) + r(m, -1, -1) - r(m, 1, -1) - r(m, -1, 1)) / 4
    g2 = gx**2 + gy**2
    i1 = 0.25 * np.sqrt(g2)
    with np.errstate(divide='ignore', invalid='ignore'):
        i2 = np.where(g2 == 0, (2 * hxy - hxx - hyy) / (4 * np.pi), (2 * gx * gy * hxy - gx**2 * hyy - gy**2 * hxx) / g2 / (2 * np.pi))
    nb, npix = len(edges) - 1, m.size
    v0, v1, v2 = np.empty(nb), np.empty(nb), np.empty(nb)
    for i in range(nb):
        v0[i] = (m >= (edges[i] + edges[i + 1]) / 2).sum() / npix
        inside = (m >= edges[i]) & (m < edges[i + 1])
        v1[i] = i1[inside].sum() / (npix * (edges[i + 1] - edges[i]))
        v2[i] = i2[inside].sum() / (npix * (edges[i + 1] - edges[i]))
    return v0, v1, v2

def _np_peaks(m, edges):
    "lenstools peaks.c: strictly above the 8 neighbours, periodic; counts per threshold bin."
    peak = np.ones(m.shape, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx: peak &= m > np.roll(m, (dy, dx), (0, 1))
    return np.histogram(m[peak], edges)[0]

def baseline(maps, maps2, k_edges, pdf_edges, mf_edges, peak_edges):
    "Every statistic, one map at a time."
    out = []
    for m1, m2 in zip(maps.astype(np.float64), maps2.astype(np.float64)):
        p11, p22, p12 = _np_power(m1, m1, k_edges), _np_power(m2, m2, k_edges), _np_power(m1, m2, k_edges)
        r = p12 / np.sqrt(p11 * p22)
        pdf = np.histogram(m1, pdf_edges)[0] / (m1.size * np.diff(pdf_edges))
        out.append((p11, r, pdf, *_np_minkowski(m1, mf_edges), _np_peaks(m1, peak_edges)))
    return [np.stack(o) for o in zip(*out)]

def ours(maps, maps2, k_edges, pdf_edges, mf_edges, peak_edges):
    "Every statistic, the whole batch at once."
    k, p11 = S.power_spectrum(maps, bins=k_edges)
    _, r = S.cross_correlation(maps, maps2, bins=k_edges)
    _, pdf = S.pixel_pdf(maps, pdf_edges)
    _, v0, v1, v2 = S.minkowski_functionals(maps, mf_edges)
    _, pk = S.peak_counts(maps, peak_edges)
    if isinstance(maps, torch.Tensor) and maps.is_cuda: torch.cuda.synchronize()
    return [p11, r, pdf, v0, v1, v2, pk]

def _fields(n, size, seed):
    "Smoothed lognormal-ish test maps and a correlated second set (numpy float32)."
    rng = np.random.default_rng(seed)
    k = np.hypot(*np.meshgrid(np.fft.fftfreq(size), np.fft.rfftfreq(size), indexing='ij'))
    filt = np.exp(-(2 * np.pi * k * 2.0) ** 2 / 2)
    g = np.fft.irfft2(np.fft.rfft2(rng.standard_normal((n, size, size))) * filt, s=(size, size))
    g /= g.std()
    g2 = 0.8 * g + 0.6 * np.fft.irfft2(np.fft.rfft2(rng.standard_normal((n, size, size))) * filt, s=(size, size)) / g.std()
    return (np.exp(0.5 * g) - 1).astype(np.float32), (np.exp(0.5 * g2) - 1).astype(np.float32)

def _median_time(f, repeats):
    f()                                                            # warm-up
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return float(np.median(ts))

def main(quick: bool = False, n_maps: int | None = None, size: int = 256, device: str = 'cpu', repeats: int | None = None,
         results_path: str | Path | None = None) -> dict:
    "Time both implementations on the same maps, check they agree, print a table and write benchmarks/results/statistics.json."
    n_maps = n_maps or (64 if quick else 1000)
    repeats = repeats or 3
    maps, maps2 = _fields(n_maps, size, 0)
    k_edges = S.k_bin_edges(size)
    pdf_edges = np.linspace(-1, 3, 51)                             # the test maps are exp(0.5 g) - 1, g unit Gaussian
    mf_edges = np.linspace(-0.8, 1.5, 51)                          # 50 threshold bins
    peak_edges = np.linspace(-0.5, 2.5, 31)
    args = (k_edges, pdf_edges, mf_edges, peak_edges)
    n_base = min(n_maps, 32 if quick else 100)                     # the baseline is linear in the number of maps: time a subset
    t_base = _median_time(lambda: baseline(maps[:n_base], maps2[:n_base], *args), 1 if quick else 2) / n_base * n_maps
    ref = baseline(maps[:8], maps2[:8], *args)
    rows = {}
    for dev in ['cpu'] + (['cuda'] if device == 'cuda' and torch.cuda.is_available() else []):
        x, x2 = (torch.from_numpy(maps).to(dev), torch.from_numpy(maps2).to(dev)) if dev == 'cuda' else (maps, maps2)
        t = _median_time(lambda: ours(x, x2, *args), repeats)
        got = [np.asarray(o.cpu() if isinstance(o, torch.Tensor) else o)[:8] for o in ours(x[:8], x2[:8], *args)]
        err = max(float(np.max(np.abs(g - r)) / max(np.max(np.abs(r)), 1e-30)) for g, r in zip(got, ref))
        rows[dev] = dict(seconds=t, ms_per_map=1e3 * t / n_maps, speedup=t_base / t, max_rel_diff_vs_baseline=err)
    res = dict(benchmark='statistics', date=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               machine=dict(platform=platform.platform(), processor=platform.processor(), cpus=os.cpu_count(),
                            torch_threads=torch.get_num_threads(), statistics_cpu_workers=S.CPU_WORKERS,
                            load_average=os.getloadavg() if hasattr(os, 'getloadavg') else None,
                            gpu=torch.cuda.get_device_name() if torch.cuda.is_available() else None),
               versions=dict(python=sys.version.split()[0], numpy=np.__version__, torch=torch.__version__),
               config=dict(n_maps=n_maps, size=size, baseline_maps_timed=n_base, repeats=repeats, k_bins=len(k_edges) - 1,
                           pdf_bins=50, mf_bins=50, peak_bins=30, quick=quick),
               baseline=dict(seconds=t_base, ms_per_map=1e3 * t_base / n_maps), ours=rows)
    print(f"statistics of {n_maps} maps of {size}^2 (P(k), r(k), PDF, V0/V1/V2 with 50 thresholds, peaks)")
    print(f"{'implementation':<28}{'total s':>10}{'ms/map':>10}{'speed-up':>10}{'max rel diff':>14}")
    print(f"{'per-map numpy (baseline)':<28}{t_base:>10.2f}{1e3 * t_base / n_maps:>10.2f}{1.0:>10.1f}{'':>14}")
    for dev, r in rows.items():
        print(f"{'cosmogan_nb batched ' + dev:<28}{r['seconds']:>10.2f}{r['ms_per_map']:>10.2f}{r['speedup']:>10.1f}{r['max_rel_diff_vs_baseline']:>14.1e}")
    out = Path(results_path) if results_path else Path(__file__).resolve().parent / 'results' / 'statistics.json'
    atomic_write_bytes(out, json.dumps(res, indent=1).encode())
    return res

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='64 maps instead of 1000')
    ap.add_argument('--maps', type=int, default=None, help='number of maps')
    ap.add_argument('--size', type=int, default=256, help='map side in pixels')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu', help='also time on cuda if available')
    a = ap.parse_args()
    main(a.quick, a.maps, a.size, a.device)
