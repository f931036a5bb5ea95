"""wine as the Windows stand-in: registry import/export and msiexec, one prefix per test copied from a template.

The template prefix is built once (about 6 s) under $SVLAB/wine-template and reused while the wine version is the
same. Each test gets its own copy: the 600 MB of DLLs are hard links (wine never writes them), everything else is
copied, so a test's registry and files never leak into another. Every wineserver started here is ended with
``wineserver -k`` for that prefix only.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SVLAB = Path(os.environ.get("SVLAB", "/var/tmp/svlab"))
TEMPLATE_ROOT = SVLAB / "wine-template"
_BINARIES = (".dll", ".exe", ".drv", ".sys", ".ocx", ".cpl", ".acm", ".ax", ".tlb", ".ds", ".nls")

sys.path.insert(0, str(ROOT / ".cache" / "collections"))


def _env(prefix: Path) -> dict:
    env = dict(os.environ, WINEPREFIX=str(prefix), WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=")
    env.pop("DISPLAY", None)
    return env


def _wine_version() -> str:
    return subprocess.run(["wine", "--version"], capture_output=True, text=True, check=True).stdout.strip()


def _clone(source: Path, target: Path) -> None:
    """cp -a, except that large DLLs and EXEs are hard-linked (read-only for wine) to keep a copy under 0.3 s."""
    for directory, subdirs, files in os.walk(source):
        relative = Path(directory).relative_to(source)
        destination = target / relative
        destination.mkdir(parents=True, exist_ok=True)
        for name in subdirs:
            path = Path(directory) / name
            if path.is_symlink():
                os.symlink(os.readlink(path), destination / name)
        for name in files:
            path = Path(directory) / name
            if path.is_symlink():
                os.symlink(os.readlink(path), destination / name)
            elif name.lower().endswith(_BINARIES) and path.stat().st_size > 65536:
                try:
                    os.link(path, destination / name)
                except OSError:  # another file system
                    shutil.copy2(path, destination / name)
            else:
                shutil.copy2(path, destination / name)
        shutil.copystat(directory, destination)


class Wine:
    """One wine prefix: run programs, import and export .reg files, run command lines through cmd."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.env = _env(prefix)
        self.drive_c = prefix / "drive_c"
        # A wineserver that outlives each wine call, started with its output detached: one started by a wine call
        # would inherit that call's pipes and make every call wait for the server's 3 s linger time.
        subprocess.run(["wineserver", "-p"], env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, check=False)

    def run(self, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.run(["wine", *args], env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                  timeout=timeout, check=False)
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())

    def unix_to_windows(self, path: Path) -> str:
        return "Z:" + str(path).replace("/", "\\")

    def reg_import(self, data: bytes, name: str = "import.reg") -> subprocess.CompletedProcess:
        path = self.prefix / name
        path.write_bytes(data)
        return self.run("reg", "import", self.unix_to_windows(path))

    def reg_export(self, key: str, name: str = "export.reg") -> bytes | None:
        """Bytes of ``reg export key``; None when the key does not exist."""
        path = self.prefix / name
        if path.exists():
            path.unlink()
        proc = self.run("reg", "export", key, self.unix_to_windows(path), "/y")
        if proc.returncode != 0:
            return None
        return path.read_bytes()

    def cmd(self, command_line: str, name: str = "run.cmd") -> int:
        """Run one command line exactly as written (via a batch file, as CreateProcess would get it); its exit code."""
        script = self.drive_c / name
        script.write_bytes((command_line + "\r\nexit /b %ERRORLEVEL%\r\n").encode("ascii"))
        return self.run("cmd", "/c", "C:\\" + name).returncode

    def stop(self) -> None:
        subprocess.run(["wineserver", "-k"], env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60, check=False)


@pytest.fixture(scope="session")
def wine_template() -> Path:
    """The prefix template for this wine version, built once under a lock (parallel sessions share it)."""
    if shutil.which("wine") is None or shutil.which("wineserver") is None:
        pytest.fail("wine is not installed: apt-get install -y wine wine64 msitools wixl")
    version = _wine_version()
    TEMPLATE_ROOT.mkdir(parents=True, exist_ok=True)
    template = TEMPLATE_ROOT / version.replace("/", "_")
    stamp = template / ".ready"
    with open(TEMPLATE_ROOT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.exists():
            building = TEMPLATE_ROOT / (version + ".building")
            shutil.rmtree(building, ignore_errors=True)
            shutil.rmtree(template, ignore_errors=True)
            env = _env(building)
            quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            subprocess.run(["wine", "reg", "query", "HKLM\\Software"], env=env, timeout=300, check=True, **quiet)
            subprocess.run(["wineserver", "-k"], env=env, timeout=60, check=False, **quiet)
            subprocess.run(["wineserver", "-w"], env=env, timeout=60, check=False, **quiet)
            building.rename(template)
            stamp.write_text(version + "\n")
    return template


@pytest.fixture
def wine(wine_template: Path, tmp_path: Path):
    prefix = tmp_path / "prefix"
    _clone(wine_template, prefix)
    box = Wine(prefix)
    yield box
    box.stop()
