#!/usr/bin/env python3
"""The GPU benchmark: one script, sized to finish in under 8 minutes on one H200.

    python benchmarks/gpu.py            # on a CUDA machine (the device tool, when a task is lent one)
    python benchmarks/gpu.py --smoke    # tiny sizes on the CPU: checks the script runs (CI machines have no GPU)

Measures, in one process:
1. training throughput of the library's own loop (`cosmogan_nb.training.train`) for the paper architecture at 256^2,
   bf16 autocast + channels-last, without and with `torch.compile`, and the projected wall time of the paper's WL run
   (the `wl` preset: 60,000 steps of batch 64) at that rate;
2. statistics for 10,000 maps of 256^2 (power spectrum, cross-correlation, pixel PDF, Minkowski functionals with 50
   thresholds, peak counts) on the GPU, against the same calls on the CPU for a 200-map subset (ratio per map);
3. the pull-back metric of the paper generator at one latent point, against one forward pass at batch 64.
Writes benchmarks/results/gpu.json (or gpu_smoke.json) and prints a table.
"""
import argparse, datetime, json, os, platform, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent


def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def timed(fn, dev, repeats=3):
    "Median seconds of `fn()` over `repeats` calls after one warm-up call."
    fn(); _sync(dev)
    ts = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); _sync(dev); ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def bench_training(dev, smoke):
    from cosmogan_nb.training import preset, train
    rows, size = [], 64 if smoke else 256
    tmp = Path(tempfile.mkdtemp())
    for compile_ in ((False,) if smoke else (False, True)):
        cfg = preset('wl', n_maps=64 if smoke else 512, size=size, width=0.125 if smoke else 1.0, max_steps=8 if smoke else 160,
                     minutes=None, eval_every=0, checkpoint_every=100000, log_every=2 if smoke else 20, device=str(dev),
                     amp=True, channels_last=True, compile=compile_, in_memory=True, batch_size=16 if smoke else 64)
        t = time.perf_counter()
        res = train(cfg, out=tmp / f'run_compile{int(compile_)}', progress=False)
        sps = res.samples_per_s
        paper = preset('wl')
        rows.append(dict(what=f'train paper arch {size}^2 bf16 channels_last compile={compile_}', samples_per_s=sps,
                         wall_s=time.perf_counter() - t,
                         projected_wl_run_h=paper.schedule.max_steps * paper.optim.batch_size / sps / 3600 if sps else None))
    return rows


def bench_statistics(dev, smoke):
    from cosmogan_nb import statistics as st
    n, size = (64, 64) if smoke else (10_000, 256)
    g = torch.Generator(device='cpu').manual_seed(0)
    maps = torch.randn(n, size, size, generator=g)
    maps = torch.fft.irfft2(torch.fft.rfft2(maps) / (1 + torch.fft.rfftfreq(size)[None, :] * 20), s=(size, size))
    thr = np.linspace(-3, 3, 51) * float(maps.std())

    def all_stats(x):
        st.power_spectrum(x); st.cross_correlation(x, x.roll(1, 0)); st.pixel_pdf(x, 50)
        st.minkowski_functionals(x, thr); st.peak_counts(x, thr)

    xg = maps.to(dev)
    t_dev = timed(lambda: all_stats(xg), dev, repeats=1 if smoke else 2)
    sub = maps[:min(200, n)]
    t_cpu = timed(lambda: all_stats(sub), torch.device('cpu'), repeats=1)
    per_dev, per_cpu = t_dev / n, t_cpu / len(sub)
    return [dict(what=f'statistics, {n} maps {size}^2 on {dev.type}', seconds=t_dev, ms_per_map=1e3 * per_dev),
            dict(what=f'statistics, {len(sub)} maps on cpu (same calls)', seconds=t_cpu, ms_per_map=1e3 * per_cpu,
                 ratio_cpu_over_device=per_cpu / per_dev)]


def bench_metric(dev, smoke):
    from cosmogan_nb.model import Generator
    from cosmogan_nb.geometry import metric_tensor
    G = Generator(size=64, width=0.125) if smoke else Generator()
    G = G.to(dev).eval()
    z = torch.randn(1, G.latent_dim, device=dev)
    with torch.no_grad():
        t_fwd = timed(lambda: G(torch.randn(64, G.latent_dim, device=dev)), dev)
    t_metric = timed(lambda: metric_tensor(G, z), dev, repeats=1 if smoke else 3)
    return [dict(what=f'metric tensor, latent {G.latent_dim} -> {G.size}^2', seconds=t_metric,
                 ratio_to_forward_batch64=t_metric / t_fwd),
            dict(what='forward pass, batch 64', seconds=t_fwd)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--smoke', action='store_true', help='tiny sizes on the CPU, to check the script runs')
    args = ap.parse_args(argv)
    if not args.smoke and not torch.cuda.is_available(): sys.exit('gpu.py: no CUDA device (use --smoke on a CPU)')
    dev = torch.device('cpu' if args.smoke else 'cuda')
    info = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), torch=torch.__version__,
                device=torch.cuda.get_device_name(0) if dev.type == 'cuda' else platform.processor() or 'cpu',
                python=platform.python_version(), smoke=args.smoke)
    t0, rows = time.perf_counter(), []
    for part in (bench_training, bench_statistics, bench_metric):
        try: rows += part(dev, args.smoke)
        except Exception as e: rows.append(dict(what=part.__name__, error=repr(e)))
        print(f"[{time.perf_counter() - t0:6.1f}s] {part.__name__} done", flush=True)
    out = HERE / 'results' / ('gpu_smoke.json' if args.smoke else 'gpu.json')
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_suffix('.tmp'); tmp.write_text(json.dumps(dict(machine=info, rows=rows), indent=2)); os.replace(tmp, out)
    print(f"\n{info['device']}  {info['date']}")
    for r in rows:
        print('  ' + r.pop('what') + ': ' + ', '.join(f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}' for k, v in r.items()))
    print(f"wrote {out}")


if __name__ == '__main__':
    main()
