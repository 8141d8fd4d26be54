"""The shipped `quick-wl` generator, loaded offline, against maps simulated afresh at the paper's two sigma8 values: its mean power spectrum
must match within 10% (the users' issue's bar; its model card records 1.5-3.2% on 400 held-out maps per value, and 200 maps per value
measure the mean spectrum to about 1-2%, so a passing generator does not fail by chance), and its maps must scatter like the simulations'.
The per-map rms scatter ratio has the goal 0.8-1.25 (the card: 0.97-1.14); the ratio of two standard deviations estimated from 200 maps each
has a log standard error of about sqrt(1/199) = 0.071, so the test allows three of them beyond the goal on each side: 0.65-1.54."""
import math
from cosmogan_nb import list_pretrained, load_pretrained
from cosmogan_nb.data import make_dataset
from cosmogan_nb.report import evaluate


def test_quick_wl_matches_fresh_simulations(tmp_path):
    assert 'quick-wl' in list_pretrained()
    G = load_pretrained('quick-wl')
    assert not G.training and G.param_names == ['sigma8'] and G.transform is not None
    fresh = make_dataset('wl', tmp_path / 'fresh.h5', n_maps=400, size=G.size, seed=20261130, progress=False)
    ev = evaluate(G, fresh, seed=3)
    groups = {g['label']: g['comparison'] for g in ev['groups']}
    assert sorted(groups) == ['sigma8=0.436', 'sigma8=0.814'], sorted(groups)
    mean = {g: c['scores']['power_spectrum'] for g, c in groups.items()}
    assert all(v < 0.10 for v in mean.values()), mean
    lo, hi = 0.8 * math.exp(-3 * 0.071), 1.25 * math.exp(3 * 0.071)
    rms = {g: c['moments']['std_ratio']['rms'] for g, c in groups.items()}
    assert all(lo <= v <= hi for v in rms.values()), rms
