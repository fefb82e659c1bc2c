"""The benches' databases, migrated once per schema rather than once per database.

Every bench starts from empty SQLite files with the project's whole schema; `migrate` in a
fresh process is the slowest part of a tiny run. The first migration on this machine is kept
in the temp folder under a name made from every migration file (so a new or edited
migration makes a new copy) and each database after is a copy of it."""

import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path


def schema_key(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as migrated, closing(sqlite3.connect(target)) as copy:
        migrated.backup(copy)  # the backup API: WAL pages included


def migrated_databases(root: Path, env: dict, *targets: Path) -> None:
    """Each target: an SQLite file holding the migrated schema (env: the sandbox's, so every
    app's tables are in it)."""
    template = Path(tempfile.gettempdir()) / f"layers-bench-schema-{schema_key(root)}.db"
    if not template.exists():
        fresh = targets[0].with_name("schema.db")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=root,
            env={**env, "DATABASE_URL": f"sqlite:///{fresh}"},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        partial = template.with_suffix(f".{os.getpid()}.part")
        _copy(fresh, partial)
        os.replace(partial, template)  # another bench at the same time: either copy is whole
    for target in targets:
        _copy(template, target)
