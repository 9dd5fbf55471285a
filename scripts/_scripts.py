"""What the scripts share: loading a sibling script by name (scripts/ is not a package).

Used as ``from scripts._scripts import load_script`` once the repository root is on
``sys.path`` (each script puts it there; pytest runs from the root).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parent


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py as a module, registered in ``sys.modules`` under ``name``."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up in sys.modules
    spec.loader.exec_module(module)
    return module
