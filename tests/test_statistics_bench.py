"Smoke test of benchmarks/bench_statistics.py: both implementations run and agree (tiny sizes, results to a temporary file)."
import importlib.util, json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _bench():
    spec = importlib.util.spec_from_file_location('bench_statistics', ROOT / 'benchmarks' / 'bench_statistics.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod

def test_bench_statistics_runs(tmp_path):
    out = tmp_path / 'statistics.json'
    res = _bench().main(quick=True, n_maps=8, size=64, repeats=1, results_path=out)
    assert res['ours']['cpu']['max_rel_diff_vs_baseline'] < 1e-4
    assert res['baseline']['seconds'] > 0 and res['ours']['cpu']['speedup'] > 0
    assert json.loads(out.read_text())['config']['n_maps'] == 8
