"Bad input to the data readers, the dataset file and MapDataset is refused where it arrives: one line naming the file and the problem, nothing written."
import re
from pathlib import Path
import h5py, numpy as np, pytest
from astropy.io import fits
import cosmogan_nb.data as D
from cosmogan_nb.data import MapDataset, load_maps, make_dataset, read_gadget, read_illustris_snapshot, save_maps


def refused(exc, match, fn, *a, **k):
    "Call fn, expect `exc` whose one-line message contains every string in `match`; return the message."
    with pytest.raises(exc) as ei:
        fn(*a, **k)
    msg = str(ei.value.args[0]) if isinstance(ei.value, KeyError) else str(ei.value)
    assert '\n' not in msg, msg
    for m in ([match] if isinstance(match, str) else match): assert str(m) in msg, (m, msg)
    return msg


def convert_refused(tmp_path, exc, match, preset, **kw):
    "make_dataset(preset) must be refused, leaving neither the output nor a temporary file behind."
    out = tmp_path / 'out' / 'converted.h5'
    msg = refused(exc, match, make_dataset, preset, out, progress=False, **kw)
    assert not out.exists() and not (out.parent.exists() and list(out.parent.iterdir())), list(out.parent.iterdir())
    return msg


def npy(tmp_path, name, a):
    np.save(tmp_path / name, a)
    return tmp_path / name


def columbia(tmp_path, data, name='col'):
    "A Columbia directory holding one FITS file with `data` in its primary HDU; returns (directory, file)."
    d = tmp_path / name / 'Om0.300_Ol0.700_w-1.000_si0.800'
    d.mkdir(parents=True)
    hdu = fits.PrimaryHDU(data)
    hdu.header['ANGLE'] = 3.5
    hdu.writeto(d / 'WLconv_z1.00_0001r.fits')
    return d.parent, d / 'WLconv_z1.00_0001r.fits'


def dataset_file(path, maps, params=None, **attrs):
    "A dataset file written directly with h5py, bypassing save_maps' checks."
    with h5py.File(path, 'w') as f:
        f['maps'] = maps
        f['params'] = np.zeros((len(maps), 0)) if params is None else params
        f.attrs.update(attrs)
    return path


def illustris(path, n=200, box=1000.0, mtab=(0, 0.5, 0, 0, 0, 0), coords=None, u=None):
    "A one-chunk Illustris snapshot: n dark-matter and n gas particles, uniform; parts replaceable."
    r = np.random.default_rng(0)
    with h5py.File(path, 'w') as f:
        f.create_group('Header').attrs.update(dict(BoxSize=box, MassTable=np.array(mtab, float), Redshift=0.0))
        f['PartType1/Coordinates'] = r.uniform(0, 1000, (n, 3)) if coords is None else coords
        f['PartType0/Coordinates'] = r.uniform(0, 1000, (n, 3))
        f['PartType0/Masses'] = np.full(n, 0.1)
        f['PartType0/InternalEnergy'] = np.full(n, 250.0) if u is None else u
    return path


GADGET_HEADER = np.dtype([('npart', 'i4', 6), ('massarr', 'f8', 6), ('time', 'f8'), ('redshift', 'f8'), ('flag_sfr', 'i4'),
                          ('flag_feedback', 'i4'), ('npartTotal', 'u4', 6), ('flag_cooling', 'i4'), ('num_files', 'i4'),
                          ('BoxSize', 'f8'), ('Omega0', 'f8'), ('OmegaLambda', 'f8'), ('HubbleParam', 'f8'), ('fill', 'V96')])


def write_gadget(path, pos, vel, npart=None, box=100.0):
    "A Gadget-1 file (little endian): 256-byte header, POS, VEL, ID blocks as Fortran records; npart defaults to len(pos)."
    h = np.zeros(1, GADGET_HEADER)
    h['npart'][0, 1] = h['npartTotal'][0, 1] = len(pos) if npart is None else npart
    h['massarr'][0, 1], h['BoxSize'], h['num_files'] = 1.0, box, 1
    with open(path, 'wb') as f:
        for block in (h.tobytes(), np.asarray(pos, '<f4').tobytes(), np.asarray(vel, '<f4').tobytes(),
                      np.arange(len(pos), dtype='<u4').tobytes()):
            marker = np.array([len(block)], '<i4').tobytes()
            f.write(marker + block + marker)
    return path


LATTICE = (np.stack(np.meshgrid(*[np.arange(8.)] * 3, indexing='ij'), -1).reshape(-1, 3) + 0.5) * 100 / 8


# 1. empty and truncated files

def test_empty_npy(tmp_path):
    src = npy(tmp_path, 'empty.npy', np.zeros((0, 16, 16), np.float32))
    convert_refused(tmp_path, ValueError, [src, 'is empty: no maps'], 'npy', source=src)
    (tmp_path / 'zero.npy').write_bytes(b'')
    convert_refused(tmp_path, ValueError, [tmp_path / 'zero.npy', 'not a readable .npy file'], 'npy', source=tmp_path / 'zero.npy')


def test_empty_fits(tmp_path):
    d, f = columbia(tmp_path, None)
    convert_refused(tmp_path, ValueError, [f, 'the primary HDU holds no data'], 'columbia', size=8, source=d)


@pytest.mark.parametrize('reader', [load_maps, MapDataset])
def test_empty_and_truncated_dataset_files(tmp_path, reader):
    (tmp_path / 'zero.h5').write_bytes(b'')
    refused(ValueError, [tmp_path / 'zero.h5', 'is empty (0 bytes)'], reader, tmp_path / 'zero.h5')
    good = save_maps(tmp_path / 'good.h5', np.ones((64, 16, 16), np.float32))
    (tmp_path / 'cut.h5').write_bytes(good.read_bytes()[:good.stat().st_size // 2])
    refused(ValueError, [tmp_path / 'cut.h5', 'is truncated'], reader, tmp_path / 'cut.h5')
    none = dataset_file(tmp_path / 'none.h5', np.zeros((0, 1, 16, 16), np.float32))
    refused(ValueError, [none, "'maps' is empty: no maps"], reader, none)
    (tmp_path / 'text.h5').write_text('not hdf5')
    refused(ValueError, [tmp_path / 'text.h5', 'is not an HDF5 file'], reader, tmp_path / 'text.h5')


def test_empty_and_truncated_illustris(tmp_path):
    (tmp_path / 'snap_000.0.hdf5').write_bytes(b'')
    refused(ValueError, [tmp_path / 'snap_000.0.hdf5', 'is empty'], read_illustris_snapshot, tmp_path / 'snap_000.0.hdf5', size=8)
    good = illustris(tmp_path / 'good.hdf5', n=5000)
    (tmp_path / 'cut.hdf5').write_bytes(good.read_bytes()[:good.stat().st_size // 2])
    refused(ValueError, [tmp_path / 'cut.hdf5', 'is truncated'], read_illustris_snapshot, tmp_path / 'cut.hdf5', size=8)


# 2. complex maps

def test_complex_maps_refused(tmp_path):
    src = npy(tmp_path, 'cplx.npy', (np.ones((4, 16, 16)) + 1j).astype(np.complex64))
    convert_refused(tmp_path, TypeError, [src, 'must hold real numbers', 'complex64'], 'npy', source=src)
    refused(TypeError, 'must hold real numbers', save_maps, tmp_path / 'c.h5', np.ones((2, 8, 8), np.complex128))
    f = dataset_file(tmp_path / 'cplx.h5', np.ones((2, 1, 8, 8), np.complex64))
    refused(TypeError, [f, 'must hold real numbers'], MapDataset, f)
    assert not (tmp_path / 'c.h5').exists()


# 3. maps too small for the networks, or (for generated and converted training data) with a side that is not a power of two

@pytest.mark.parametrize('side', [1, 7])
def test_tiny_maps_refused(tmp_path, side):
    src = npy(tmp_path, f'tiny{side}.npy', np.ones((3, side, side), np.float32))
    convert_refused(tmp_path, ValueError, [src, f'at least 8x8 pixels, got {side}x{side}'], 'npy', source=src)
    refused(ValueError, f'at least 8x8 pixels, got {side}x{side}', save_maps, tmp_path / 's.h5', np.ones((3, side, side)))
    assert not (tmp_path / 's.h5').exists()


def test_side_not_power_of_two(tmp_path):
    src = npy(tmp_path, 'side12.npy', np.ones((3, 12, 12), np.float32))
    convert_refused(tmp_path, ValueError, [src, 'the map side must be a power of two >= 8', 'got 12'], 'npy', source=src)
    assert load_maps(make_dataset('npy', tmp_path / 'ok.h5', size=8, source=src, progress=False))[0].shape == (3, 1, 8, 8)
    assert load_maps(save_maps(tmp_path / 's.h5', np.ones((3, 12, 12))))[0].shape == (3, 1, 12, 12)   # a dataset file of any side >= 8 (samples of any model)
    refused(ValueError, 'size must be a power of two >= 8 (what the networks take), got 24', make_dataset, 'wl', tmp_path / 'w.h5', n_maps=2, size=24)
    f = dataset_file(tmp_path / 'odd.h5', np.ones((2, 1, 6, 6), np.float32))
    refused(ValueError, [f, 'at least 8x8 pixels'], MapDataset, f)


# 4. resizing and cropping only shrink

def test_no_upsampling(tmp_path):
    d, f = columbia(tmp_path, np.ones((1, 1), np.float32))
    convert_refused(tmp_path, ValueError, [f, 'the maps are 1x1, smaller than the requested size 64'], 'columbia', size=64, source=d)
    convert_refused(tmp_path, ValueError, [f, 'smaller than the requested size 64'], 'columbia', size=64, source=d, mode='crop')
    src = npy(tmp_path, 'm16.npy', np.ones((3, 16, 16), np.float32))
    convert_refused(tmp_path, ValueError, [src, 'the maps are 16x16, smaller than the requested size 32'], 'npy', size=32, source=src)


# 5. NaN or Inf where the maps are read: the first bad map is named

def test_nonfinite_npy_fits_camels(tmp_path):
    a = np.ones((6, 16, 16), np.float32); a[3, 4, 5] = np.nan; a[5, 0, 0] = np.inf
    src = npy(tmp_path, 'nan.npy', a)
    convert_refused(tmp_path, ValueError, [src, 'map 3 holds NaN or Inf'], 'npy', source=src)
    m = np.ones((16, 16), np.float32); m[2, 2] = np.inf
    d, f = columbia(tmp_path, m)
    convert_refused(tmp_path, ValueError, [f, 'holds NaN or Inf'], 'columbia', size=8, source=d)
    cam = tmp_path / 'camels'; cam.mkdir()
    np.savetxt(cam / 'params_LH_IllustrisTNG.txt', np.array([[0.3, 0.8, 1, 1, 1, 1]]))
    c = np.ones((15, 16, 16), np.float32); c[7, 1, 1] = np.nan
    np.save(cam / 'Maps_Mtot_IllustrisTNG_LH_z=0.00.npy', c)
    convert_refused(tmp_path, ValueError, [cam / 'Maps_Mtot_IllustrisTNG_LH_z=0.00.npy', 'map 7 holds NaN or Inf'], 'camels', source=cam)


# 6. truncated FITS

def test_truncated_fits(tmp_path):
    d, f = columbia(tmp_path, np.ones((64, 64), np.float32))
    f.write_bytes(f.read_bytes()[:4000])
    convert_refused(tmp_path, ValueError, [f, 'truncated or not a FITS file'], 'columbia', size=8, source=d)
    (tmp_path / 'col' / f.parent.name / 'WLconv_z1.00_0001r.fits').write_bytes(b'')
    convert_refused(tmp_path, ValueError, [f, 'truncated or not a FITS file'], 'columbia', size=8, source=d)


# 7. Illustris snapshots

@pytest.mark.parametrize('kw,match', [
    (dict(coords=np.zeros(600)), "'PartType1/Coordinates' must have shape (N, 3), got (600,)"),
    (dict(mtab=(0, 0.5, 0)), "Header attribute 'MassTable' must be 6"),
    (dict(u=np.ones(150)), "'PartType0/InternalEnergy' must have shape (200,), got (150,)"),
    (dict(box=1e12), 'needs'),
])
def test_illustris_bad_snapshot(tmp_path, kw, match):
    src = illustris(tmp_path / 'snap_135.0.hdf5', **kw)
    msg = convert_refused(tmp_path, (ValueError, KeyError), [src, match], 'illustris', size=8, source=src, slab_thickness=250.0)
    if 'box' in kw: assert 'more than this machine has' in msg and re.search(r'\(\d+ bytes\)', msg)


# 8. Gadget snapshots

def test_gadget_nan_positions_and_block_sizes(tmp_path):
    pos = LATTICE.copy(); pos[9, 2] = np.nan
    f = write_gadget(tmp_path / 'snap_nan', pos, np.zeros_like(pos))
    convert_refused(tmp_path, ValueError, [f, 'POS block: particle 9 holds NaN or Inf'], 'gadget', size=8, source=str(f), n_slabs=2)
    g = write_gadget(tmp_path / 'snap_count', LATTICE, np.zeros_like(LATTICE), npart=500)
    refused(ValueError, [g, "the POS block holds 6144 bytes, but the header's npart (total 500) needs 6000"], read_gadget, g)


def test_gadget_glob_absolute_and_relative(tmp_path, monkeypatch):
    for i in range(2): write_gadget(tmp_path / f'snap_000.{i}', LATTICE, np.zeros_like(LATTICE))
    pattern = str(tmp_path.resolve() / 'snap_000.*')
    m_abs = load_maps(make_dataset('gadget', tmp_path / 'abs.h5', size=8, source=pattern, n_slabs=2, progress=False))[0]
    monkeypatch.chdir(tmp_path)
    m_rel = load_maps(make_dataset('gadget', tmp_path / 'rel.h5', size=8, source='snap_000.*', n_slabs=2, progress=False))[0]
    assert m_abs.shape == (6, 1, 8, 8) and np.array_equal(m_abs, m_rel)
    convert_refused(tmp_path, FileNotFoundError, f"no files match {tmp_path / 'snap_999.*'}", 'gadget', size=8,
                    source=str(tmp_path / 'snap_999.*'))


# 9. sizes that cannot fit in memory are refused before allocating

def test_size_limits(tmp_path, monkeypatch):
    msg = convert_refused(tmp_path, ValueError, ['needs', 'more than this machine has'], 'wl', n_maps=2, size=2 ** 20)
    assert re.search(r'needs [\d.]+ TiB \(\d+ bytes\)', msg), msg
    convert_refused(tmp_path, ValueError, 'size must be a power of two', 'wl', n_maps=2, size=1000000)
    monkeypatch.setattr('cosmogan_nb.files._physical_memory', lambda: 2 ** 20)   # a 1 MiB machine: a block (2 maps per sigma8) cannot fit
    msg = convert_refused(tmp_path, ValueError, ['2 WL maps of 256x256 pixels needs', 'more than this machine has (1.0 MiB)'],
                          'wl', n_maps=4, size=256)
    refused(ValueError, 'cosmic-web slices', D.cosmic_web_slices, 3, size=64, progress=False)
    refused(ValueError, 'hydro slices', D.hydro_slices, 3, size=64, progress=False)


# 10. the dataset file's layout, and NaN maps met while reading

@pytest.mark.parametrize('maps,params,match', [
    (np.zeros((4, 64, 64), np.float32), None, "'maps': maps must have shape (N, C, H, W), got (4, 64, 64)"),
    (np.zeros((4, 1, 8, 16), np.float32), None, "'maps': the maps must be square"),
    (np.zeros((4, 1, 1, 8, 8), np.float32), None, "'maps': maps must have shape (N, C, H, W)"),
    (np.zeros((4, 1, 8, 8), np.float32), np.zeros((3, 1)), "'params' must hold real numbers of shape (N=4, P), got float64 (3, 1)"),
    (np.zeros((4, 1, 8, 8), np.float32), np.zeros(4), "'params' must hold real numbers of shape (N=4, P)"),
])
def test_dataset_file_layout(tmp_path, maps, params, match):
    f = dataset_file(tmp_path / 'bad.h5', maps, params)
    refused(ValueError, [f, match], MapDataset, f)
    refused(ValueError, [f, match], load_maps, f)


def test_nan_map_found_on_read(tmp_path):
    maps = np.zeros((5, 1, 8, 8), np.float32); maps[2, 0, 1, 1] = np.nan
    f = dataset_file(tmp_path / 'nan.h5', maps)
    ds = MapDataset(f, transform=None)                                      # opening does not scan the maps
    assert ds[1][0].shape == (1, 8, 8)
    refused(ValueError, [f, 'map 2 holds NaN or Inf'], ds.__getitem__, 2)
    refused(ValueError, [f, 'map 2 holds NaN or Inf'], load_maps, f)


# 11. a bad transform attribute

@pytest.mark.parametrize('attr,why', [('{not json', 'transform must be a dict or its JSON text'),
                                      ('{"kind": "sqrt"}', "'kind' in"),
                                      ('{"kind": "cosmogan"}', "has no 'a' entry"),
                                      ('{"kind": "cosmogan", "a": "big"}', 'a must be a number')])
def test_bad_transform_attribute(tmp_path, attr, why):
    f = dataset_file(tmp_path / 't.h5', np.ones((2, 1, 8, 8), np.float32), transform=attr)
    refused(ValueError, [f, "attribute 'transform' is not a transform", why, 'expected the JSON'], MapDataset, f)
    assert MapDataset(f, transform=None)[0][0].shape == (1, 8, 8)        # the maps themselves are usable without it


# the command line reports these as one line and exit code 2

def test_cli_one_line(tmp_path, capsys):
    from cosmogan_nb.cli import data_cli
    src = npy(tmp_path, 'cplx.npy', np.ones((2, 16, 16), np.complex64))
    out = tmp_path / 'o.h5'
    assert data_cli(['npy', str(out), '--source', str(src), '--no-progress']) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(src) in err and 'real numbers' in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['cplx.npy']
