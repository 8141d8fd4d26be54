"Command-line training and sampling (`train_cli`, `sample_cli`) at a tiny size, run as subprocesses like the console scripts."
import json, os, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import torch

from cosmogan_nb.data import load_maps, make_dataset
from cosmogan_nb.cli import sample_cli, train_cli
from cosmogan_nb.training import load_checkpoint, load_generator, read_metrics, sample

ROOT = Path(__file__).resolve().parents[1]
TINY = ['--preset', 'quick', '--set', 'size=32', '--set', 'batch_size=16', '--set', 'eval_maps=16', '--set', 'log_every=5',
        '--set', 'eval_every=5', '--set', 'checkpoint_every=5', '--set', 'minutes=null', '--no-progress']

def run(func: str, *args, timeout=300):
    "Run cosmogan_nb.cli.`func` as a separate process (as the console script does); returns CompletedProcess."
    env = {**os.environ, 'PYTHONPATH': f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", 'OMP_NUM_THREADS': '1'}
    code = f"import sys; from cosmogan_nb.cli import {func}; sys.exit({func}(sys.argv[1:]))"
    return subprocess.run([sys.executable, '-c', code, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_dataset('wl', tmp_path_factory.mktemp('data') / 'wl32.h5', n_maps=96, size=32, seed=3, progress=False)

def test_train_then_sample(data, tmp_path):
    r = run('train_cli', *TINY, '--data', data, '--max-steps', 10, '--out', tmp_path / 'run')
    assert r.returncode == 0, r.stderr
    assert 'done: step 10' in r.stderr
    names = {p.name for p in (tmp_path / 'run').iterdir()}
    assert {'config.json', 'metrics.jsonl', 'checkpoint.pt', 'best.pt', 'samples'} <= names
    recs = read_metrics(tmp_path / 'run')
    assert [x['step'] for x in recs] == [5, 10]
    assert all(np.isfinite(x['power_spectrum']) and 0 <= x['pixel_pdf'] <= 1 for x in recs)
    ck = torch.load(tmp_path / 'run' / 'checkpoint.pt', weights_only=True)
    assert ck['step'] == 10 and ck['config']['data']['size'] == 32 and ck['config']['data']['source'] == str(data)
    # sampling: any batch size, physical units, the same maps as the Python API with the same seed
    r = run('sample_cli', tmp_path / 'run' / 'best.pt', '-n', 7, '--batch-size', 3, '--seed', 5, '-o', tmp_path / 'maps.h5', '--no-progress')
    assert r.returncode == 0, r.stderr
    maps, params, attrs = load_maps(tmp_path / 'maps.h5')
    assert maps.shape == (7, 1, 32, 32) and params.shape == (7, 0)
    G = load_generator(tmp_path / 'run' / 'best.pt')
    np.testing.assert_allclose(maps, sample(G, 7, batch_size=7, seed=5), rtol=1e-4, atol=1e-6)
    # physical units: the convergence maps sit above the lognormal floor -kappa0 (kappa0 ~ 0.05), far below the network's [-1, 1) ends
    kappa0 = float(np.ravel(G.transform.shift)[0])
    assert 0.01 < kappa0 < 0.2 and maps.min() >= -kappa0 - 1e-6
    np.testing.assert_allclose(G.transform.forward(maps), sample(G, 7, seed=5, physical=False), atol=1e-4)
    assert attrs['transform']['kind'] == 'cosmogan' and attrs['step'] == 10

def test_conditional_sample_cli(data, tmp_path):
    assert train_cli([*TINY, '--data', str(data), '--set', 'conditional=true', '--max-steps', '5', '--out', str(tmp_path / 'c')]) == 0
    assert sample_cli([str(tmp_path / 'c' / 'best.pt'), '-n', '4', '--param', 'sigma8=0.6', '-o', str(tmp_path / 'c.h5'), '--no-progress']) == 0
    maps, params, attrs = load_maps(tmp_path / 'c.h5')
    assert maps.shape == (4, 1, 32, 32) and np.all(params == 0.6) and list(attrs['param_names']) == ['sigma8']

def test_cli_bad_input(data, tmp_path, capsys):
    assert train_cli([*TINY, '--data', str(data), '--set', 'lrg=1', '--out', str(tmp_path / 'x')]) == 2
    assert "unknown TrainConfig key(s) ['lrg']" in capsys.readouterr().err
    assert train_cli([*TINY, '--set', 'size=64', '--data', str(data), '--out', str(tmp_path / 'x')]) == 2
    assert 'but the config expects channels=1, size=64' in capsys.readouterr().err
    assert not (tmp_path / 'x').exists()
    assert sample_cli([str(tmp_path / 'missing.pt'), '-o', str(tmp_path / 'm.h5')]) == 2
    assert 'does not exist' in capsys.readouterr().err
    assert train_cli([*TINY, '--data', str(data), '--set', 'conditional=true', '--max-steps', '5', '--out', str(tmp_path / 'c')]) == 0
    capsys.readouterr()
    assert sample_cli([str(tmp_path / 'c' / 'best.pt'), '-n', '2', '-o', str(tmp_path / 'm.h5'), '--no-progress']) == 2
    assert "conditional on 1 parameter(s) ['sigma8']: pass theta" in capsys.readouterr().err
    assert not (tmp_path / 'm.h5').exists()
