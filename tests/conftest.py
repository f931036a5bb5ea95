"""Make the collection importable as ansible_collections.medimaging.starviewer in tests.

The repository root is the collection root; a symlink under .cache/collections gives it the
namespace path Ansible expects, so tests import plugins exactly as ansible-core would.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS = ROOT / ".cache" / "collections"
_link = COLLECTIONS / "ansible_collections" / "medimaging" / "starviewer"
if not _link.exists():
    _link.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(ROOT, _link)
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))
