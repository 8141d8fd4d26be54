"Two processes under torchrun (DistributedDataParallel, gloo on the CPU) train the same model as one process with the same global batch."
import math, os, socket, subprocess, sys
from pathlib import Path

import pytest
import torch

from cosmogan_nb.data import make_dataset
from cosmogan_nb.training import TrainConfig, _models, load_checkpoint, read_dataset_info, read_metrics

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "import sys\nfrom cosmogan_nb.training import train_cli\nsys.exit(train_cli(sys.argv[1:]))\n"

def _free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _train(tmp_path, data, out, nproc: int, *extra):
    script = tmp_path / 'train.py'; script.write_text(SCRIPT)
    env = {**os.environ, 'PYTHONPATH': f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", 'OMP_NUM_THREADS': '1'}
    # Adam turns the rounding noise of gradients that are exactly zero in theory (conv biases in front of BatchNorm) into +-lr steps;
    # a larger epsilon keeps that noise out so the comparison tests the distributed arithmetic. For the same reason the spectrum critic is
    # off: its log-power gradient (1/P on the nearly empty shells of a new generator) amplifies float rounding, so that even one process
    # on 1 or on 2 threads ends these 6 steps with generators 7.7% apart (measured), while D and the losses agree to 1e-4
    args = ['--preset', 'quick', '--data', str(data), '--set', 'size=32', '--set', 'batch_size=16', '--set', 'eval_every=0', '--set', 'log_every=1',
            '--set', 'd_spectrum_critic=false',
            '--set', 'checkpoint_every=6', '--set', 'minutes=null', '--set', 'adam_eps=1e-5', '--max-steps', '6', '--out', str(out), '--no-progress', *extra]
    launch = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', str(nproc), '--master_addr', '127.0.0.1',
              '--master_port', str(_free_port())] if nproc > 1 else [sys.executable]
    r = subprocess.run([*launch, str(script), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return load_checkpoint(out / 'checkpoint.pt')

def _flat(sd): return torch.cat([v.float().flatten() for k, v in sd.items() if 'running' not in k and 'num_batches' not in k])

def test_two_processes_train_the_same_model(tmp_path):
    data = make_dataset('wl', tmp_path / 'wl32.h5', n_maps=96, size=32, seed=5, progress=False)
    one = _train(tmp_path, data, tmp_path / 'one', 1)
    two = _train(tmp_path, data, tmp_path / 'two', 2)
    # same mean losses of the global batch at every step
    for a, b in zip(read_metrics(tmp_path / 'one'), read_metrics(tmp_path / 'two')):
        assert a['step'] == b['step']
        for k in ('loss_d', 'loss_g'):   # (a hinge loss can be exactly 0 once D separates the batch)
            assert math.isclose(a[k], b[k], rel_tol=1e-3, abs_tol=1e-6), (a['step'], k, a[k], b[k])
    # same weights: the difference is a tiny fraction of how far training moved them
    cfg = TrainConfig.from_dict(one['config'])
    G0, D0 = _models(cfg, read_dataset_info(data, cfg), data)
    for part, init in (('generator', G0), ('discriminator', D0)):
        w0, w1, w2 = _flat(init.state_dict()), _flat(one[part]['state_dict']), _flat(two[part]['state_dict'])
        moved = (w1 - w0).norm()
        assert moved > 1e-3
        assert (w2 - w1).norm() < 3e-2 * moved, (part, ((w2 - w1).norm() / moved).item())
        for k in one[part]['state_dict']:
            if 'running' in k: torch.testing.assert_close(two[part]['state_dict'][k], one[part]['state_dict'][k], rtol=1e-2, atol=1e-3)
    # without synchronised BatchNorm each process normalises by its own half batch: a different model, which the check above would catch
    nosync = _train(tmp_path, data, tmp_path / 'nosync', 2, '--set', 'sync_batchnorm=false')
    w1, w3 = _flat(one['generator']['state_dict']), _flat(nosync['generator']['state_dict'])
    assert (w3 - w1).norm() > 0.2 * (w1 - _flat(G0.state_dict())).norm()

def test_two_processes_with_the_spectrum_critic(tmp_path):
    "The quick preset's spectrum critic under DDP: same losses and discriminator as one process (its generator is rounding-sensitive, above)."
    data = make_dataset('wl', tmp_path / 'wl32.h5', n_maps=96, size=32, seed=5, progress=False)
    on = ('--set', 'd_spectrum_critic=true')
    one, two = _train(tmp_path, data, tmp_path / 'one', 1, *on), _train(tmp_path, data, tmp_path / 'two', 2, *on)
    cfg = TrainConfig.from_dict(one['config'])
    assert cfg.d_spectrum_critic and one['discriminator']['config']['spectrum_bins'] == 16
    for a, b in zip(read_metrics(tmp_path / 'one'), read_metrics(tmp_path / 'two')):
        for k in ('loss_d', 'loss_g'): assert math.isclose(a[k], b[k], rel_tol=1e-3, abs_tol=1e-6), (a['step'], k, a[k], b[k])
    D0 = _models(cfg, read_dataset_info(data, cfg), data)[1]
    w0, w1, w2 = (_flat(sd) for sd in (D0.state_dict(), one['discriminator']['state_dict'], two['discriminator']['state_dict']))
    assert (w2 - w1).norm() < 3e-2 * (w1 - w0).norm()
