#!/usr/bin/env python3
"""The GPU benchmark: one script, sized to finish in under 8 minutes on one H200.

    python benchmarks/gpu.py            # on a CUDA machine (the device tool, when a task is lent one)
    python benchmarks/gpu.py --smoke    # tiny sizes on the CPU: checks the script runs (CI machines have no GPU)
    python benchmarks/gpu.py --demos    # instead: the paper presets end to end, under 10 minutes on one H200 (see below)
    python benchmarks/gpu.py --demos --smoke

Measures, in one process:
1. training throughput of the library's own loop (`cosmogan_nb.training.train`) for the paper architecture at 256^2,
   bf16 autocast + channels-last, without and with `torch.compile`, and the projected wall time of the paper's WL run
   (the `wl` preset: 60,000 steps of batch 64) at that rate;
2. statistics for 10,000 maps of 256^2 (power spectrum, cross-correlation, pixel PDF, Minkowski functionals with 50
   thresholds, peak counts) on the GPU, against the same calls on the CPU for a 200-map subset (ratio per map);
3. the pull-back metric of the paper generator at one latent point, against one forward pass at batch 64.
Writes benchmarks/results/gpu.json (or gpu_smoke.json) and prints a table.

`--demos` runs `cosmogan demo` instead for the paper presets `wl`, `cw` and `illustris` at paper size (256^2, the paper's
architecture, bf16 on the GPU): data, a few thousand training steps each, evaluation and report, logging each run's speed and
scores in benchmarks/results/gpu_demos.json (`--smoke`: `--tiny` runs on the CPU, gpu_demos_smoke.json). The whole must fit in
one 10-minute device call: the built-in data is simulated on the CPU (a 256^3 2LPT box, 96 cosmic-web or three-field slices, takes
about 8 s on one core), so the CW and three-field training sets are cut to one box per grid point (768 maps) and 7 boxes (672),
and each run's training gets a time limit from what is left of a 9-minute budget after the estimated data, evaluation and report
time of the runs still to come (`DEMO_BUDGET_MIN`, `DEMO_OVERHEAD_MIN`), at most 2 minutes and 3000 steps each.
"""
import argparse, datetime, json, os, platform, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))   # run from a checkout without installing


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


# The paper presets' demos: map counts (one 256^3 box gives 96 slices; the CW grid has 8 points) and the estimated minutes of
# everything but training (simulating the data on the CPU, evaluation and report), from one-core timings of a box
PAPER_DEMOS = {'wl': dict(n_heldout=400), 'cw': dict(n_maps=768, n_heldout=768), 'illustris': dict(n_maps=672, n_heldout=288)}
DEMO_OVERHEAD_MIN = {'wl': 0.8, 'cw': 2.8, 'illustris': 1.5}
DEMO_BUDGET_MIN, DEMO_STEPS, DEMO_MAX_TRAIN_MIN = 9.0, 3000, 2.0


def _demo_headline(scores: dict) -> dict:
    "The scores worth a line: P(k) and Minkowski per group, per channel and pair for several fields, responses, unseen values."
    out = {}
    for g, s in scores.items():
        if isinstance(s, dict) and 'power_spectrum' in s:
            out[g] = {k: round(v, 4) for k, v in s.items() if isinstance(v, float) and k.split('[')[0] in ('power_spectrum', 'minkowski', 'pixel_pdf', 'cross_correlation', 'joint_pdf')}
    if 'responses' in scores: out['responses'] = {p: round(max(v.values()), 4) for p, v in scores['responses'].items()}   # the worst pair per parameter
    if 'unseen_parameters' in scores: out['unseen'] = {g: round(v['power_spectrum'], 4) for g, v in scores['unseen_parameters'].items()}
    return out


def bench_paper_demos(dev, smoke):
    "`cosmogan demo` for wl, cw and illustris at paper size, a few thousand steps each within one 10-minute call (tiny on the CPU with `smoke`)."
    from cosmogan_nb.cli import DemoConfig, demo
    from cosmogan_nb.training import read_metrics
    rows, tmp, t0 = [], Path(tempfile.mkdtemp()), time.perf_counter()
    names = list(PAPER_DEMOS)
    for i, name in enumerate(names):
        left = DEMO_BUDGET_MIN - (time.perf_counter() - t0) / 60 - sum(DEMO_OVERHEAD_MIN[n] for n in names[i:])
        minutes = min(DEMO_MAX_TRAIN_MIN, max(0.3, left / (len(names) - i)))
        kw = dict(tiny=True) if smoke else dict(max_steps=DEMO_STEPS, minutes=round(minutes, 2), **PAPER_DEMOS[name])
        t = time.perf_counter()
        try:
            res = demo(DemoConfig(out=str(tmp / name), preset=name, device=str(dev), **kw), progress=False)
        except Exception as e:
            rows.append(dict(what=f'demo --preset {name}', error=repr(e))); continue
        recs = read_metrics(tmp / name / 'train')
        sps = [r['samples_per_s'] for r in recs if 'samples_per_s' in r]
        scores = json.loads(Path(res['scores']).read_text())
        rows.append(dict(what=f"demo --preset {name} ({'tiny' if smoke else f'{DEMO_STEPS} steps or {minutes:.2f} min'})", wall_s=time.perf_counter() - t,
                         steps=recs[-1]['step'] if recs else None, samples_per_s=float(np.median(sps)) if sps else None,
                         best_step=scores.get('best_step'), timings_s={k: round(v, 1) for k, v in res['times'].items()}, scores=_demo_headline(scores)))
        print(f"[{time.perf_counter() - t0:6.1f}s] demo --preset {name}: {rows[-1]['steps']} steps, scores {rows[-1]['scores']}", flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--smoke', action='store_true', help='tiny sizes on the CPU, to check the script runs')
    ap.add_argument('--demos', action='store_true', help='instead: cosmogan demo for the paper presets wl, cw, illustris (under 10 minutes on one H200)')
    args = ap.parse_args(argv)
    if not args.smoke and not torch.cuda.is_available(): sys.exit('gpu.py: no CUDA device (use --smoke on a CPU)')
    dev = torch.device('cpu' if args.smoke else 'cuda')
    info = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'), torch=torch.__version__,
                device=torch.cuda.get_device_name(0) if dev.type == 'cuda' else platform.processor() or 'cpu',
                python=platform.python_version(), smoke=args.smoke)
    t0, rows = time.perf_counter(), []
    for part in ((bench_paper_demos,) if args.demos else (bench_training, bench_statistics, bench_metric)):
        try: rows += part(dev, args.smoke)
        except Exception as e: rows.append(dict(what=part.__name__, error=repr(e)))
        print(f"[{time.perf_counter() - t0:6.1f}s] {part.__name__} done", flush=True)
    out = HERE / 'results' / f"gpu{'_demos' if args.demos else ''}{'_smoke' if args.smoke else ''}.json"
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_suffix('.tmp'); tmp.write_text(json.dumps(dict(machine=info, rows=rows), indent=2)); os.replace(tmp, out)
    print(f"\n{info['device']}  {info['date']}")
    for r in rows:
        print('  ' + r.pop('what') + ': ' + ', '.join(f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}' for k, v in r.items()))
    print(f"wrote {out}")


if __name__ == '__main__':
    main()
