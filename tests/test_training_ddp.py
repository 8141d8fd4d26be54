"""Two processes under torchrun (DistributedDataParallel, gloo on the CPU) train the same model as one process with the same global batch.

The arithmetic is compared in float64. GAN training is chaotic: in float32 the rounding differences of a different summation order (two
half-batch sums plus an all-reduce instead of one sum, or another CPU's kernels) grow from ~1e-7 to percent-level differences in a few
steps (measured: losses 0.9% and generator weights 0.6% of their movement apart after 6 steps), so a float32 comparison can only hold to a
tolerance that depends on the machine. In float64 the same rounding starts near 1e-16: measured, the losses agree to 3e-15 and the weights
to 7e-12 of how far they moved. The bound 1e-6 leaves five orders of magnitude for other CPUs' kernels, while any real difference in the
distributed arithmetic (a batch statistic, a gradient or a loss term of half the batch) moves losses and weights by far more: without
synchronised BatchNorm they differ by 37% and 9-130%.

The preset's R1 penalty on D is left out of the main comparison and tested on its own, without D's BatchNorm: R1 is the gradient of D's
output with respect to its input, and its own gradient then runs twice through D. Through synchronised BatchNorm that second pass is not
the single-process arithmetic (measured with the preset: the generator's loss 0.25% apart after the first step; with its minibatch-std
feature off, 1.4-1.6% at steps 4-6), while without D's
BatchNorm, minibatch-std feature included, the two agree to 1e-14 as above. Under DDP, R1 is each process's share of the batch's penalty with
D's batch statistics taken as the global batch's, as in StyleGAN2's per-GPU R1; `02_training` says so.
"""
import contextlib, math, os, socket, subprocess, sys
from pathlib import Path

import pytest
import torch

from cosmogan_nb.data import make_dataset
from cosmogan_nb.training import TrainConfig, _models, load_checkpoint, read_dataset_info, read_metrics

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = "import sys, torch\n{dtype}from cosmogan_nb.cli import train_cli\nsys.exit(train_cli(sys.argv[1:]))\n"
REL = 1e-6   # float64: measured 3e-15 (losses) and 7e-12 (weights); see the module docstring

def _free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@contextlib.contextmanager
def _default_dtype(dtype):
    old = torch.get_default_dtype(); torch.set_default_dtype(dtype)
    try: yield
    finally: torch.set_default_dtype(old)

def _train(tmp_path, data, out, nproc: int, *extra, float64: bool = True):
    """Train the quick preset (both critics, the area term from step 3 of 6; R1 off unless `extra` sets it) at 32^2 for 6 steps, with `nproc` processes.

    Adam's epsilon is raised from 1e-8 to 1e-5: gradients that are exactly zero in theory (convolution biases in front of BatchNorm) hold
    only rounding noise, which Adam would scale up to steps of +-lr; that is the arithmetic of Adam, not of the distribution."""
    script = tmp_path / f'train{"64" if float64 else "32"}.py'
    script.write_text(SCRIPT.format(dtype='torch.set_default_dtype(torch.float64)\n' if float64 else ''))
    env = {**os.environ, 'PYTHONPATH': f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", 'OMP_NUM_THREADS': '1'}
    args = ['--preset', 'quick', '--data', str(data), '--set', 'size=32', '--set', 'batch_size=16', '--set', 'eval_every=0', '--set', 'log_every=1',
            '--set', 'checkpoint_every=6', '--set', 'minutes=null', '--set', 'adam_eps=1e-5', '--set', 'd_r1_weight=0', '--max-steps', '6', '--out', str(out), '--no-progress', *extra]
    launch = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', str(nproc), '--master_addr', '127.0.0.1',
              '--master_port', str(_free_port())] if nproc > 1 else [sys.executable]
    r = subprocess.run([*launch, str(script), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return load_checkpoint(out / 'checkpoint.pt')

def _flat(sd): return torch.cat([v.double().flatten() for k, v in sd.items() if 'running' not in k and 'num_batches' not in k])

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ddp')
    data = make_dataset('wl', tmp / 'wl32.h5', n_maps=96, size=32, seed=5, progress=False)
    return tmp, data, _train(tmp, data, tmp / 'one', 1), _train(tmp, data, tmp / 'two', 2)

def test_two_processes_train_the_same_model(runs):
    tmp, data, one, two = runs
    cfg = TrainConfig.from_dict(one['config'])
    assert cfg.model.d_spectrum_critic and cfg.model.d_pixel_quantiles and cfg.loss.g_area_weight > 0   # every term of the preset takes part
    assert all(v.dtype == torch.float64 for v in one['generator']['state_dict'].values() if v.is_floating_point())
    # the same mean losses of the global batch at every step, and the same area-fraction term of G (on from step 3 of 6):
    # each process fits its half batch's differences with the sums of both halves, so the term is the global batch's
    m1, m2 = read_metrics(tmp / 'one'), read_metrics(tmp / 'two')
    assert [r['step'] for r in m1] == [r['step'] for r in m2] == [1, 2, 3, 4, 5, 6]
    assert [r['step'] for r in m1 if 'loss_area' in r] == [r['step'] for r in m2 if 'loss_area' in r] == [4, 5, 6]
    for a, b in zip(m1, m2):
        for k in ('loss_d', 'loss_g', 'loss_area'):   # (a hinge loss can be exactly 0 once D separates the batch)
            if k in a: assert math.isclose(a[k], b[k], rel_tol=REL, abs_tol=1e-12), (a['step'], k, a[k], b[k])
    # the same weights and BatchNorm statistics, to a tiny fraction of how far training moved them
    with _default_dtype(torch.float64): G0, D0 = _models(cfg, read_dataset_info(data, cfg), data)
    for part, init in (('generator', G0), ('discriminator', D0)):
        w0, w1, w2 = _flat(init.state_dict()), _flat(one[part]['state_dict']), _flat(two[part]['state_dict'])
        moved = (w1 - w0).norm()
        assert moved > 1e-3
        assert (w2 - w1).norm() < REL * moved, (part, ((w2 - w1).norm() / moved).item())
        for k, v in one[part]['state_dict'].items():
            if 'running' in k: torch.testing.assert_close(two[part]['state_dict'][k], v, rtol=REL, atol=1e-12)

def test_unsynchronised_batchnorm_is_a_different_model(runs):
    "Without synchronised BatchNorm each process normalises by its own half batch: the comparison above would catch it."
    tmp, data, one, _ = runs
    nosync = _train(tmp, data, tmp / 'nosync', 2, '--set', 'sync_batchnorm=false')
    cfg = TrainConfig.from_dict(one['config'])
    with _default_dtype(torch.float64): G0 = _models(cfg, read_dataset_info(data, cfg), data)[0]
    w0, w1, w3 = (_flat(sd) for sd in (G0.state_dict(), one['generator']['state_dict'], nosync['generator']['state_dict']))
    assert (w3 - w1).norm() > 1e3 * REL * (w1 - w0).norm()
    m1, m3 = read_metrics(tmp / 'one'), read_metrics(tmp / 'nosync')
    assert max(abs(a['loss_g'] - b['loss_g']) / abs(a['loss_g']) for a, b in zip(m1, m3)) > 1e3 * REL

def test_two_processes_in_float32(runs):
    "The production precision under DDP: the run completes with finite losses at every step and the same schedule of terms."
    tmp, data, one, _ = runs
    f32 = _train(tmp, data, tmp / 'two32', 2, float64=False)
    assert all(v.dtype == torch.float32 for v in f32['generator']['state_dict'].values() if v.is_floating_point())
    m = read_metrics(tmp / 'two32')
    assert [r['step'] for r in m] == [1, 2, 3, 4, 5, 6] and [r['step'] for r in m if 'loss_area' in r] == [4, 5, 6]
    assert all(math.isfinite(r[k]) for r in m for k in ('loss_d', 'loss_g'))

def test_r1_penalty_under_two_processes(runs):
    "The R1 penalty (the preset's gamma, lazily at every 2nd update so that three of the six steps have it) under DDP: without D's BatchNorm, the same losses and weights as one process."
    tmp, data, _, _ = runs
    r1 = ('--set', 'd_r1_weight=0.03', '--set', 'd_r1_every=2', '--set', 'd_batch_norm=false')   # R1 at steps 1, 3, 5
    one, two = _train(tmp, data, tmp / 'r1one', 1, *r1), _train(tmp, data, tmp / 'r1two', 2, *r1)
    cfg = TrainConfig.from_dict(one['config'])
    assert cfg.loss.d_r1_weight == 0.03 and cfg.model.d_minibatch_std and not cfg.model.d_batch_norm
    m1, m2 = read_metrics(tmp / 'r1one'), read_metrics(tmp / 'r1two')
    assert [r['step'] for r in m1] == [r['step'] for r in m2] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(m1, m2):
        for k in ('loss_d', 'loss_g'): assert math.isclose(a[k], b[k], rel_tol=REL, abs_tol=1e-12), (a['step'], k, a[k], b[k])
    with _default_dtype(torch.float64): D0 = _models(cfg, read_dataset_info(data, cfg), data)[1]
    w0, w1, w2 = _flat(D0.state_dict()), _flat(one['discriminator']['state_dict']), _flat(two['discriminator']['state_dict'])
    assert (w2 - w1).norm() < REL * (w1 - w0).norm(), ((w2 - w1).norm() / (w1 - w0).norm()).item()
    off = _train(tmp, data, tmp / 'r1off', 1, '--set', 'd_batch_norm=false')   # and the penalty did take part
    assert (_flat(off['discriminator']['state_dict']) - w1).norm() > 1e3 * REL * (w1 - w0).norm()
