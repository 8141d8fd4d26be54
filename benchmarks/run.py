#!/usr/bin/env python3
"""Run every cosmogan_nb benchmark, print one summary table and write benchmarks/results/all.json.

    python benchmarks/run.py            # full sizes (tens of minutes on 2 CPU cores; the fidelity run alone about 11)
    python benchmarks/run.py --quick    # small sizes (about a minute): checks the suite runs
    python benchmarks/run.py --only statistics geometry

Each `bench_<name>.py` beside this file exposes `main(quick: bool) -> dict`, prints its own table, writes
`results/<name>.json` and measures its baseline in the same process, so the ratios it reports are comparable even on
a noisy machine. This runner adds the machine, versions and date, and collects the headline rows.
"""
import argparse, datetime, importlib.util, json, os, platform, sys, time, traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine_info() -> dict:
    "Where and when the numbers were measured."
    import numpy, torch
    info = dict(date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                python=platform.python_version(), platform=platform.platform(), processor=platform.machine(),
                cpu_count=os.cpu_count(), torch=torch.__version__, numpy=numpy.__version__,
                torch_threads=torch.get_num_threads(),
                device=torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu')
    try:
        import cosmogan_nb; info['cosmogan_nb'] = cosmogan_nb.__version__
    except Exception: pass
    return info


def load(name: str):
    "Import `bench_<name>.py` from this folder."
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"bench_{name}.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='small sizes, to check the suite runs')
    ap.add_argument('--only', nargs='*', help='benchmark names (default: all bench_*.py)')
    args = ap.parse_args(argv)
    names = args.only or sorted(p.stem[len('bench_'):] for p in HERE.glob('bench_*.py'))
    results, failed = {'machine': machine_info(), 'quick': args.quick, 'benchmarks': {}}, []
    for name in names:
        print(f"\n##### {name}")
        t0 = time.perf_counter()
        try:
            results['benchmarks'][name] = {'result': load(name).main(quick=args.quick), 'seconds': time.perf_counter() - t0}
        except Exception:
            traceback.print_exc(); failed.append(name)
            results['benchmarks'][name] = {'error': traceback.format_exc(limit=3), 'seconds': time.perf_counter() - t0}
    out = HERE / 'results'; out.mkdir(exist_ok=True)
    tmp = out / 'all.json.tmp'
    tmp.write_text(json.dumps(results, indent=2, default=str)); os.replace(tmp, out / 'all.json')
    print(f"\n{'benchmark':<14} {'status':<8} {'seconds':>8}")
    for name, r in results['benchmarks'].items():
        print(f"{name:<14} {'FAILED' if 'error' in r else 'ok':<8} {r['seconds']:>8.1f}")
    print(f"\nwrote {out / 'all.json'}")
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
