"""The package's structure, checked on its syntax trees: modules import one way, none reaches into another's private names, and no
function grows past what a reader takes in at once."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / 'cosmogan_nb'

# Each module may import only modules of a lower level: the foundations, then the data, the models, inference, what uses a trained
# generator, and the command line on top.
LEVELS = {'files': 0, 'statistics': 0, 'geometry': 0,
          'simulations': 1, 'datasets': 1, 'readers': 2, 'data': 3,
          'model': 4, 'inference': 5,
          'training': 6, 'latent': 6, 'report': 6,
          'cli': 7}
MAX_LINES = 60


def _modules() -> dict:
    return {p.stem: ast.parse(p.read_text()) for p in sorted(PKG.glob('*.py')) if not p.stem.startswith('_')}


def _imports(tree) -> list:
    "(module imported from the package, names) for each import of the package's own modules."
    out = []
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.module and (n.level or n.module.startswith('cosmogan_nb')):
            out.append((n.module.split('.')[-1], [a.name for a in n.names]))
        elif isinstance(n, ast.Import):
            out += [(a.name.split('.')[-1], []) for a in n.names if a.name.startswith('cosmogan_nb.')]
    return out


def test_every_module_has_a_level():
    assert set(_modules()) <= set(LEVELS), f"add the new module(s) {sorted(set(_modules()) - set(LEVELS))} to LEVELS"


def test_imports_run_one_way():
    bad = [f"{m} (level {LEVELS[m]}) imports {dep} (level {LEVELS.get(dep)})"
           for m, tree in _modules().items() for dep, _ in _imports(tree) if dep in LEVELS and LEVELS[dep] >= LEVELS.get(m, 99)]
    assert not bad, bad


def test_no_module_imports_another_modules_private_names():
    bad = [f"{m} imports {dep}.{name}" for m, tree in _modules().items() for dep, names in _imports(tree)
           for name in names if name.startswith('_') and not name.startswith('__')]
    assert not bad, bad


def test_functions_are_short():
    long = [f"{m}.{n.name}: {n.end_lineno - n.lineno + 1} lines" for m, tree in _modules().items() for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > MAX_LINES]
    assert not long, long
