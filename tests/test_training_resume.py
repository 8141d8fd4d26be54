"Kill-and-resume (SIGKILL at a random moment, then --resume continues the same schedule) and checkpoints that must be refused."
import json, os, random, shutil, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch

from cosmogan_nb.data import make_dataset
from cosmogan_nb.cli import train_cli
from cosmogan_nb.training import TrainConfig, load_checkpoint, load_generator, preset, read_metrics, save_checkpoint, train

ROOT = Path(__file__).resolve().parents[1]
STEPS = 24

def _cfg(data) -> TrainConfig:
    return preset('quick', data=str(data), size=32, batch_size=16, eval_maps=16, log_every=2, eval_every=6, checkpoint_every=2,
                  minutes=None, max_steps=STEPS, threads=1)   # one thread in both processes: bitwise-comparable

def _args(cfg: TrainConfig, out) -> list:
    return ['--set', f'data={cfg.data.source}', '--set', 'size=32', '--set', 'batch_size=16', '--set', 'eval_maps=16', '--set', 'log_every=2',
            '--set', 'eval_every=6', '--set', 'checkpoint_every=2', '--set', 'minutes=null', '--set', 'threads=1', '--max-steps', str(STEPS), '--out', str(out), '--no-progress']

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    return make_dataset('wl', tmp_path_factory.mktemp('data') / 'wl32.h5', n_maps=96, size=32, seed=4, progress=False)

@pytest.fixture(scope='module')
def reference(data, tmp_path_factory):
    "An uninterrupted run."
    out = tmp_path_factory.mktemp('ref') / 'run'
    train(_cfg(data), out, progress=False)
    return out

def _popen(args):
    env = {**os.environ, 'PYTHONPATH': f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", 'OMP_NUM_THREADS': '1'}
    code = "import sys; from cosmogan_nb.cli import train_cli; sys.exit(train_cli(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, '-c', code, *args], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def test_sigkill_then_resume_continues_the_same_schedule(data, reference, tmp_path):
    cfg, out = _cfg(data), tmp_path / 'run'
    p = _popen(_args(cfg, out))
    t0 = time.time()
    while not (out / 'checkpoint.pt').exists():          # wait for the first checkpoint, then kill at a random moment
        assert p.poll() is None, p.communicate()
        assert time.time() - t0 < 240, 'no checkpoint after 240 s'
        time.sleep(0.05)
    time.sleep(random.uniform(0, 1.0))
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL, 'the run finished before it could be killed: make it longer'
    killed_at = load_checkpoint(out / 'checkpoint.pt')['step']
    assert 0 < killed_at < STEPS
    r = _popen(['--resume', *_args(cfg, out)]); so, se = r.communicate(timeout=300)
    assert r.returncode == 0, se
    a, b = load_checkpoint(out / 'checkpoint.pt'), load_checkpoint(reference / 'checkpoint.pt')
    assert a['step'] == b['step'] == STEPS
    for part in ('generator', 'discriminator'):
        for k, v in b[part]['state_dict'].items(): torch.testing.assert_close(a[part]['state_dict'][k], v, rtol=1e-5, atol=1e-6)
    for k, v in b['ema'].items(): torch.testing.assert_close(a['ema'][k], v, rtol=1e-5, atol=1e-6)
    # the metrics file holds each step once, with the reference's losses
    ma, mb = read_metrics(out), read_metrics(reference)
    assert [m['step'] for m in ma] == [m['step'] for m in mb]
    for x, y in zip(ma, mb): assert abs(x['loss_d'] - y['loss_d']) < 1e-5 and abs(x['loss_g'] - y['loss_g']) < 1e-5
    assert a['best']['step'] == b['best']['step']
    assert not list(out.glob('.*.tmp'))

def test_refuses_bad_checkpoints_and_changed_config(data, reference, tmp_path, capsys):
    cfg, out = _cfg(data), tmp_path / 'run'
    out.mkdir()
    good = (reference / 'checkpoint.pt').read_bytes()
    # truncated
    (out / 'checkpoint.pt').write_bytes(good[:len(good) // 3])
    assert train_cli(['--resume', *_args(cfg, out)]) == 2
    assert 'corrupt or truncated' in capsys.readouterr().err
    assert (out / 'checkpoint.pt').read_bytes() == good[:len(good) // 3]     # nothing overwritten
    with pytest.raises(ValueError, match='corrupt or truncated'): load_generator(out / 'checkpoint.pt')
    # pickled code: refused, never executed
    class Evil:
        def __reduce__(self): return (os.system, (f'touch {tmp_path}/pwned',))
    torch.save({'step': 1, 'generator': Evil()}, out / 'checkpoint.pt')
    assert train_cli(['--resume', *_args(cfg, out)]) == 2
    assert 'contains pickled Python objects' in capsys.readouterr().err
    with pytest.raises(ValueError, match='contains pickled Python objects'): load_generator(out / 'checkpoint.pt')
    assert not (tmp_path / 'pwned').exists()
    # a different config
    (out / 'checkpoint.pt').write_bytes(good)
    assert train_cli(['--resume', *_args(cfg, out), '--set', 'lr_g=0.001', '--set', 'loss=bce']) == 2
    err = capsys.readouterr().err
    assert 'cannot resume' in err and "'optim.lr_g': (0.0001, 0.001)" in err and "'loss.kind': ('hinge', 'bce')" in err
    assert (out / 'checkpoint.pt').read_bytes() == good
    assert not (out / 'metrics.jsonl').exists()
    # a new run over an existing one needs --overwrite
    assert train_cli(_args(cfg, out)) == 2
    assert 'already holds a run' in capsys.readouterr().err

def _flat_config(cfg: TrainConfig) -> dict:
    "A config as runs wrote it before the configuration had groups: one flat dict, with the old names and without the newer options."
    old = {'data.source': 'data', 'loss.kind': 'loss', 'model.d_spectral_norm': 'spectral_norm'}
    newer = ('model.base_size', 'model.d_batch_norm', 'model.d_conditioning', 'model.d_negative_slope', 'evaluation.max_loss')
    return {old.get(k, k.split('.')[-1]): v for k, v in cfg.flat().items() if k not in newer}

def test_a_run_written_before_the_config_groups_loads_and_resumes(data, tmp_path):
    "Checkpoints and config.json of the flat layout: the generator loads, and --resume continues the run to the same weights."
    cfg = _cfg(data).replace(lr_decay_start=1.0, g_area_start=0.0)    # a schedule that does not depend on max_steps: the run may grow
    straight, out = train(cfg, tmp_path / 'straight', progress=False).out, tmp_path / 'old'
    short = cfg.replace(max_steps=12)
    train(short, out, progress=False)
    for name in ('checkpoint.pt', 'best.pt'):
        ck = load_checkpoint(out / name); ck['config'] = _flat_config(short); save_checkpoint(ck, out / name)
    (out / 'config.json').write_text(json.dumps(_flat_config(short)))
    assert load_generator(out / 'best.pt').latent_dim == 64
    assert TrainConfig.from_dict(load_checkpoint(out / 'checkpoint.pt')['config']) == short   # migrated exactly
    assert train_cli(['--resume', '--out', str(out), '--max-steps', str(STEPS), '--no-progress']) == 0
    a, b = load_checkpoint(out / 'checkpoint.pt'), load_checkpoint(straight / 'checkpoint.pt')
    assert a['step'] == STEPS and a['config'] == b['config']                        # written back in the grouped layout
    for k, v in b['generator']['state_dict'].items(): torch.testing.assert_close(a['generator']['state_dict'][k], v, rtol=1e-5, atol=1e-6)

def test_a_moved_run_resumes_and_another_dataset_is_refused(data, tmp_path):
    "A run folder and its data copied elsewhere resume (the data's path may change, its maps may not)."
    cfg = _cfg(data).replace(lr_decay_start=1.0, g_area_start=0.0, max_steps=6)
    train(cfg, tmp_path / 'here', progress=False)
    shutil.copytree(tmp_path / 'here', tmp_path / 'there'); shutil.copy(data, tmp_path / 'moved.h5')
    assert train_cli(['--resume', '--out', str(tmp_path / 'there'), '--data', str(tmp_path / 'moved.h5'), '--max-steps', '8', '--no-progress']) == 0
    assert load_checkpoint(tmp_path / 'there' / 'checkpoint.pt')['step'] == 8
    other = make_dataset('wl', tmp_path / 'other.h5', n_maps=96, size=32, seed=5, progress=False)   # same shape, other maps
    with pytest.raises(ValueError, match='its dataset differs'):
        train(cfg.replace(data=str(other), max_steps=10), tmp_path / 'there', resume=True, progress=False)
