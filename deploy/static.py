"""Streamlit's hashed front-end bundles, copied for nginx with a pre-compressed `.gz` beside each text file.

nginx serves `/static/...` from this copy (`gzip_static on`): a browser that accepts gzip gets the
`.gz` as it is, compressed once here at the highest level instead of on every request, and the
replicas' Python never streams the multi-megabyte JavaScript. The copy is one folder per Streamlit
version (the bundles' names carry their content hash, so a folder never changes once written) under
$COCKPIT_STATIC_DIR or var/static; `prepare()` reuses a complete one, so only the first `up` after
an upgrade spends the few seconds compressing. `python -m deploy.static` writes it and prints the
folder, for a real host's nginx.
"""

from __future__ import annotations

import gzip
import os
import shutil
import stat
import tempfile
from pathlib import Path

import streamlit

from store.db import ROOT

# text formats worth compressing; fonts in woff2, images and wasm are compressed already or nearly
COMPRESS = {".js", ".mjs", ".css", ".json", ".svg", ".ttf", ".otf", ".txt", ".html"}
MIN_BYTES = 1024  # the same threshold as nginx's gzip_min_length
DONE = ".complete"


def source() -> Path:
    """Streamlit's built front end (index.html, static/js, static/css, static/media)."""
    return Path(streamlit.__file__).parent / "static"


def readable_by_others(path: Path) -> bool:
    """Every folder from / down to `path` lets other users through: nginx's workers run as
    `nobody` when the layout runs as root, and open the files themselves."""
    p = path.resolve()
    return all(d.stat().st_mode & stat.S_IXOTH for d in [p, *p.parents] if d.exists())


def base_dir() -> Path:
    """Where the copies live; under the system's temp folder when the default is not reachable
    for nginx's workers (a private folder above it)."""
    base = Path(os.environ.get("COCKPIT_STATIC_DIR") or ROOT / "var" / "static")
    if os.geteuid() == 0 and not readable_by_others(base):
        base = Path(tempfile.gettempdir()) / "cockpit-static"
    return base


def prepare(base: Path | None = None) -> Path:
    """The root for nginx (`root` of `location /static/`), writing the copy first when missing."""
    base = base or base_dir()
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(base.stat().st_mode | 0o755)
    root = base / f"streamlit-{streamlit.__version__}"
    if (root / DONE).is_file():
        return root
    if root.exists():
        shutil.rmtree(root)  # a copy cut short: start again
    tmp = root.with_name(f"{root.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    src = source() / "static"
    for path in src.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(src)
        out = tmp / "static" / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, out)
        if path.suffix in COMPRESS and path.stat().st_size >= MIN_BYTES:
            data = path.read_bytes()
            gz = out.with_name(out.name + ".gz")
            gz.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
            st = path.stat()
            os.utime(gz, (st.st_atime, st.st_mtime))  # Last-Modified of the .gz is the file's
    (tmp / DONE).write_text(streamlit.__version__)
    try:
        tmp.rename(root)
    except OSError:  # another `up` finished the same copy first
        shutil.rmtree(tmp, ignore_errors=True)
        if not (root / DONE).is_file():
            raise
    return root


if __name__ == "__main__":  # for a real host's nginx: write the copy, print its folder
    print(prepare())
