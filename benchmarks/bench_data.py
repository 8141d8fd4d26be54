"""Benchmark of `cosmogan_nb.data`: the built-in generators, the CIC deposit, the dataset file and the lazy loader.

Rows (targets from issue 3, 2 CPU cores):
  - 1000 lognormal WL maps of 256^2 (target < 60 s); baseline: the bare rfft2 + irfft2 of the same maps, the floor any
    FFT-based generator pays;
  - 1000 cosmic-web slices of 256^2 (target < 5 min; 96 slices per 256^3 box); the CIC deposit against `np.add.at`
    on the same particles;
  - the quick-illustris data (3000 hydro slices of 64^2) with 2^3 particles per cell against one (no target; the cost of
    the sub-lattices);
  - peak memory of one 256^3 box (target < 4 GB), measured as the max RSS of a fresh process minus that of the imports;
  - writing a WL dataset file and reading it back through `MapDataset` + `DataLoader` (0 and 2 workers) against one
    bulk h5py read.
Run:
    python benchmarks/bench_data.py [--quick]
"""
from __future__ import annotations
import argparse, json, os, platform, subprocess, sys, tempfile, time
from datetime import datetime, timezone
from pathlib import Path
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run from a checkout without installing
from cosmogan_nb import data as D
from cosmogan_nb.data import atomic_write_bytes


def _median_time(f, repeats, warmup=True):
    "Median wall time of f() over `repeats` runs after one warm-up."
    if warmup: f()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def _fft_floor(n, size, seed=0):
    "Baseline: white noise, rfft2, irfft2 for n maps (what any FFT-based Gaussian/lognormal generator must pay)."
    rng = np.random.default_rng(seed)
    for _ in range(n):
        np.fft.irfft2(np.fft.rfft2(rng.standard_normal((size, size))), s=(size, size))


def _cic_add_at(pos, n):
    "Baseline CIC with np.add.at (the obvious vectorised version)."
    i0 = np.floor(pos); d = pos - i0; i0 = i0.astype(np.int64) % n
    out = np.zeros((n, n, n))
    for cx in (0, 1):
        for cy in (0, 1):
            for cz in (0, 1):
                w = (d[:, 0] if cx else 1 - d[:, 0]) * (d[:, 1] if cy else 1 - d[:, 1]) * (d[:, 2] if cz else 1 - d[:, 2])
                np.add.at(out, ((i0[:, 0] + cx) % n, (i0[:, 1] + cy) % n, (i0[:, 2] + cz) % n), w)
    return out


_MEM_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from cosmogan_nb import data as D
def kb(key):
    for line in open('/proc/self/status'):
        if line.startswith(key): return int(line.split()[1])
base = kb('VmHWM')
D.cosmic_web_slices(1, size={size}, seed=0, progress=False)
print(base, kb('VmHWM'))
"""


def _box_memory_gb(size):
    "Peak RSS (GB) of one size^3 box in a fresh process, total and above the imports (VmHWM: ru_maxrss survives fork+exec)."
    r = subprocess.run([sys.executable, '-c', _MEM_SCRIPT.format(root=str(Path(__file__).resolve().parents[1]), size=size)],
                       capture_output=True, text=True, check=True)
    base, peak = map(int, r.stdout.split()[-2:])
    return peak / 1e6, (peak - base) / 1e6                          # kB -> GB


def main(quick: bool = False) -> dict:
    "Time the data module, print a table and write benchmarks/results/data.json."
    n_wl, size = (100, 256) if quick else (1000, 256)
    cw_size = 128 if quick else 256
    rows = {}

    # WL maps
    t_wl = _median_time(lambda: D.lognormal_convergence_maps(n_wl, size=size, seed=0, progress=False), 1 if quick else 3)
    t_fft = _median_time(lambda: _fft_floor(n_wl, size), 1 if quick else 3)
    rows['wl_maps'] = dict(what=f'{n_wl} WL maps {size}^2', seconds=t_wl, per_1000_s=t_wl * 1000 / n_wl,
                           baseline='bare rfft2+irfft2', baseline_s=t_fft, ratio_to_baseline=t_wl / t_fft, target_per_1000_s=60.0)

    # CW slices: one box (quick, 128^3) or the full 1000 slices at 256^2
    if quick:
        t_box = _median_time(lambda: D.cosmic_web_slices(3 * cw_size // 8, size=cw_size, box_size=256.0, seed=0, progress=False), 1)
        per_box = 3 * cw_size // 8
        est_1000_256 = t_box * 8 * np.ceil(1000 / 96)                # a 256^3 box costs about 8x a 128^3 one
        rows['cw_slices'] = dict(what=f'one {cw_size}^3 box ({per_box} slices)', seconds=t_box,
                                 per_1000_s=est_1000_256, note='estimate for 1000 slices at 256^2 (8x per box)', target_per_1000_s=300.0)
    else:
        t0 = time.perf_counter(); D.cosmic_web_slices(1000, size=256, seed=0, progress=False); t_cw = time.perf_counter() - t0
        rows['cw_slices'] = dict(what='1000 CW slices 256^2 (11 boxes of 256^3)', seconds=t_cw, per_1000_s=t_cw, target_per_1000_s=300.0)

    # hydro slices (the quick-illustris data, 64^2): 2^3 particles per cell against one, in the same run
    n_hy = 240 if quick else 3000
    t_hy = {s: _median_time(lambda: D.hydro_slices(n_hy, size=64, seed=0, progress=False, particle_sampling=s), 1, False) for s in (2, 1)}
    rows['hydro_slices'] = dict(what=f'{n_hy} hydro slices 64^2, 2^3 particles per cell', seconds=t_hy[2], baseline='1 particle per cell',
                                baseline_s=t_hy[1], ratio_to_baseline=t_hy[2] / t_hy[1], per_3000_s=t_hy[2] * 3000 / n_hy)

    # CIC: bincount vs np.add.at on the same particles
    n_cic = 48 if quick else 128
    pos = np.random.default_rng(0).uniform(0, n_cic, (n_cic ** 3, 3))
    t_cic = _median_time(lambda: D.cic_deposit(pos, n_cic), 3)
    t_addat = _median_time(lambda: _cic_add_at(pos, n_cic), 1 if quick else 3)
    diff = float(np.max(np.abs(D.cic_deposit(pos, n_cic) - _cic_add_at(pos, n_cic))))
    rows['cic'] = dict(what=f'CIC of {n_cic}^3 particles', seconds=t_cic, baseline='np.add.at', baseline_s=t_addat,
                       speedup=t_addat / t_cic, max_abs_diff=diff)

    # memory of one box
    total, above = _box_memory_gb(cw_size)
    rows['box_memory'] = dict(what=f'peak RSS of one {cw_size}^3 box', total_gb=total, above_imports_gb=above, target_gb=4.0)

    # dataset file: write, then read back
    n_io = 100 if quick else 1000
    maps = D.lognormal_convergence_maps(n_io, size=size, seed=1, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'wl.h5'
        t_write = _median_time(lambda: D.save_maps(path, maps, np.zeros(n_io), ['sigma8'], D.CosmoganTransform(0.08, 0.055)), 1, False)
        import h5py
        def bulk():
            with h5py.File(path, 'r') as f: f['maps'][...]
        t_bulk = _median_time(bulk, 3)
        ds = D.MapDataset(path)
        loader = lambda w: sum(len(x) for x, _ in torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=w))
        t_l0 = _median_time(lambda: loader(0), 1 if quick else 2)
        t_l2 = _median_time(lambda: loader(2), 1 if quick else 2)
        size_mb = path.stat().st_size / 1e6
    rows['file_io'] = dict(what=f'{n_io} maps {size}^2', write_s=t_write, file_mb=size_mb, raw_mb=maps.nbytes / 1e6,
                           baseline='bulk h5py read (no transform)', baseline_s=t_bulk,
                           loader_0_workers_maps_per_s=n_io / t_l0, loader_2_workers_maps_per_s=n_io / t_l2,
                           loader_0_ratio_to_bulk=t_l0 / t_bulk)

    res = dict(benchmark='data', date=datetime.now(timezone.utc).isoformat(timespec='seconds'),
               machine=dict(platform=platform.platform(), processor=platform.processor(), cpus=os.cpu_count(),
                            torch_threads=torch.get_num_threads(), device='cpu'),
               versions=dict(python=sys.version.split()[0], numpy=np.__version__, torch=torch.__version__,
                             pyccl=__import__('pyccl').__version__, h5py=__import__('h5py').__version__),
               config=dict(quick=quick, wl_maps=n_wl, size=size, cw_box=cw_size, cic_particles=n_cic ** 3, io_maps=n_io), rows=rows)

    r = rows
    print(f"{'row':<44}{'ours':>12}{'baseline':>12}{'ratio':>9}   target")
    print(f"{r['wl_maps']['what']:<44}{r['wl_maps']['seconds']:>11.2f}s{r['wl_maps']['baseline_s']:>11.2f}s"
          f"{r['wl_maps']['ratio_to_baseline']:>9.2f}   {r['wl_maps']['per_1000_s']:.1f} s per 1000 (< 60 s)")
    print(f"{r['cw_slices']['what']:<44}{r['cw_slices']['seconds']:>11.1f}s{'':>12}{'':>9}   "
          f"{r['cw_slices']['per_1000_s']:.0f} s per 1000 at 256^2 (< 300 s)")
    hy = r['hydro_slices']
    print(f"{hy['what']:<44}{hy['seconds']:>11.1f}s{hy['baseline_s']:>11.1f}s{hy['ratio_to_baseline']:>9.2f}   "
          f"{hy['per_3000_s']:.0f} s per 3000 (quick-illustris data; baseline 1 particle per cell)")
    print(f"{r['cic']['what']:<44}{r['cic']['seconds']:>11.2f}s{r['cic']['baseline_s']:>11.2f}s{r['cic']['speedup']:>8.1f}x   np.add.at baseline")
    print(f"{r['box_memory']['what']:<44}{r['box_memory']['total_gb']:>10.2f}GB{'':>12}{'':>9}   "
          f"{r['box_memory']['above_imports_gb']:.2f} GB above imports (< 4 GB)")
    io = r['file_io']
    print(f"{'write ' + io['what']:<44}{io['write_s']:>11.2f}s{'':>12}{'':>9}   {io['file_mb']:.0f} MB on disk ({io['raw_mb']:.0f} MB raw)")
    print(f"{'MapDataset read, 0 workers':<44}{n_io / io['loader_0_workers_maps_per_s']:>11.2f}s{io['baseline_s']:>11.2f}s"
          f"{io['loader_0_ratio_to_bulk']:>9.2f}   {io['loader_0_workers_maps_per_s']:.0f} maps/s (bulk h5py read baseline)")
    print(f"{'MapDataset read, 2 workers':<44}{n_io / io['loader_2_workers_maps_per_s']:>11.2f}s{'':>12}{'':>9}   "
          f"{io['loader_2_workers_maps_per_s']:.0f} maps/s")
    out = Path(__file__).resolve().parent / 'results' / 'data.json'
    atomic_write_bytes(out, json.dumps(res, indent=1).encode())
    return res


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='small sizes (well under a minute)')
    main(ap.parse_args().quick)
