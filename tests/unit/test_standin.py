"""Tests of the Starviewer TEST STAND-IN package (tests/fixtures/standin).

The package is built twice, inspected with dpkg-deb, extracted, and its program is run with this
interpreter (which has PyQt5). Qt-dependent expectations are computed here with PyQt5 or written
out by hand from the behaviour notes, never by importing the stand-in.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

QtCore = pytest.importorskip("PyQt5.QtCore")
QtNetwork = pytest.importorskip("PyQt5.QtNetwork")

if shutil.which("dpkg-deb") is None:
    pytest.skip("dpkg-deb is needed to build the stand-in package", allow_module_level=True)

STANDIN = Path(__file__).resolve().parents[1] / "fixtures" / "standin"
BUILD = STANDIN / "build-deb.sh"
VERSION = "2.0.0-CE"
DEB_NAME = f"starviewer~{VERSION}~amd64-ubuntu.deb"
EPOCH_DATE = "2023-02-02 00:00"

STARVIEWER_DESKTOP = (
    b"[Desktop Entry]\n"
    b"Name=Starviewer\n"
    b"Exec=/opt/starviewer/starviewer.sh\n"
    b"Icon=/opt/starviewer/logo/64.svg\n"
    b"Type=Application\n"
    b"Categories=Graphics;Science;Biology;MedicalSoftware;\n"
    b"Comment=Medical imaging DICOM image viewer\n"
)
URL_HANDLER_DESKTOP = (
    b"[Desktop Entry]\n"
    b"Name=Starviewer URL handler\n"
    b"Exec=/usr/bin/starviewer --url %u\n"
    b"Type=Application\n"
    b"MimeType=x-scheme-handler/starviewer\n"
)

# path -> (tar mode string, link target or None)
EXPECTED_ENTRIES = {
    "./": ("drwxr-xr-x", None),
    "./opt/": ("drwxr-xr-x", None),
    "./opt/starviewer/": ("drwxr-xr-x", None),
    "./opt/starviewer/VERSION": ("-rw-r--r--", None),
    "./opt/starviewer/lib/": ("drwxr-xr-x", None),
    "./opt/starviewer/lib/README": ("-rw-r--r--", None),
    "./opt/starviewer/logo/": ("drwxr-xr-x", None),
    "./opt/starviewer/logo/64.svg": ("-rw-r--r--", None),
    "./opt/starviewer/starviewer": ("-rwxr-xr-x", None),
    "./opt/starviewer/starviewer.sh": ("-rwxr-xr-x", None),
    "./opt/starviewer/starviewer_sapwrapper": ("-rwxr-xr-x", None),
    "./usr/": ("drwxr-xr-x", None),
    "./usr/bin/": ("drwxr-xr-x", None),
    "./usr/bin/starviewer": ("lrwxrwxrwx", "/opt/starviewer/starviewer.sh"),
    "./usr/share/": ("drwxr-xr-x", None),
    "./usr/share/applications/": ("drwxr-xr-x", None),
    "./usr/share/applications/Starviewer.desktop": ("-rw-r--r--", None),
    "./usr/share/applications/StarviewerUrlHandler.desktop": ("-rw-r--r--", None),
}


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, **kwargs)


def build(version: str, outdir: Path, umask: str = "022") -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    """Run the build script under a given umask; return the process and its key=value lines."""
    result = run(["bash", "-c", f'umask {umask} && exec "$0" "$@"', str(BUILD), version, str(outdir)])
    fields = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return result, fields


# ansible-test units runs every test in a forked child, so a module-scoped fixture would be built again for each
# test (two builds and a sleep, 2 s each). The builds are kept in a directory made at import time, in the parent.
_CACHE = Path(tempfile.mkdtemp(prefix="standin-tests-"))
_OWNER = os.getpid()
atexit.register(lambda: os.getpid() == _OWNER and shutil.rmtree(_CACHE, ignore_errors=True))


@pytest.fixture(scope="module")
def builds() -> tuple[dict[str, str], dict[str, str]]:
    record = _CACHE / "builds.json"
    if record.exists():
        return tuple(json.loads(record.read_text()))
    first, first_fields = build(VERSION, _CACHE / "deb-a")
    assert first.returncode == 0, first.stderr
    time.sleep(1.1)  # a different wall-clock second must not change the bytes
    second, second_fields = build(VERSION, _CACHE / "deb-b", umask="077")
    assert second.returncode == 0, second.stderr
    record.write_text(json.dumps([first_fields, second_fields]))
    return first_fields, second_fields


@pytest.fixture(scope="module")
def deb(builds) -> Path:
    return Path(builds[0]["deb"])


@pytest.fixture(scope="module")
def extracted(deb) -> Path:
    root = _CACHE / "extracted"
    done = _CACHE / "extracted.done"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        result = run(["dpkg-deb", "-x", str(deb), str(root)])
        assert result.returncode == 0, result.stderr
        done.touch()
    return root


# --- build ------------------------------------------------------------------------------------------


def test_build_is_byte_reproducible(builds):
    first, second = builds
    data = Path(first["deb"]).read_bytes()
    assert data == Path(second["deb"]).read_bytes()
    assert first["sha256"] == second["sha256"] == hashlib.sha256(data).hexdigest()


def test_build_output_names_and_prints_debian_version(builds):
    first = builds[0]
    assert Path(first["deb"]).name == DEB_NAME
    assert first["debian_version"] == VERSION


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("2.0.0-CE", "2.0.0-CE"),
        ("1:2.0.0-CE", "1:2.0.0-CE"),
        ("2.0.0", "2.0.0"),
        ("v2.0_rc1", "0~v2.0.rc1"),
        ("2.0 beta", "2.0.beta"),
        ("2.0.0-", "2.0.0"),
    ],
)
def test_version_is_made_debian_valid(tmp_path, version, expected):
    result, fields = build(version, tmp_path)
    assert result.returncode == 0, result.stderr
    assert fields["debian_version"] == expected
    package = Path(fields["deb"])
    assert package.name == f"starviewer~{version}~amd64-ubuntu.deb"
    assert run(["dpkg-deb", "-f", str(package), "Version"]).stdout.strip() == expected
    if shutil.which("dpkg"):
        assert run(["dpkg", "--validate-version", expected]).returncode == 0


@pytest.mark.parametrize("args", [[], ["2.0.0-CE"], ["", "out"], ["2.0/1", "out"], ["a", "b", "c"]])
def test_build_rejects_bad_usage(tmp_path, args):
    result = run([str(BUILD), *args], cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: build-deb.sh VERSION OUTDIR" in result.stderr
    assert list(tmp_path.iterdir()) == []


# --- package metadata and content -----------------------------------------------------------------------


def test_control_fields(deb):
    def field(name: str) -> str:
        return run(["dpkg-deb", "-f", str(deb), name]).stdout.strip()

    assert field("Package") == "starviewer"
    assert field("Version") == VERSION
    assert field("Architecture") == "amd64"
    assert field("Maintainer") == "Starviewer stand-in for tests <standin@example.invalid>"
    assert field("Depends") == "python3, python3-pyqt5"
    description = field("Description")
    assert description.startswith("TEST STAND-IN")
    assert "NOT the vendor Starviewer program" in description


def test_no_maintainer_scripts(deb, tmp_path):
    assert run(["dpkg-deb", "-e", str(deb), str(tmp_path / "control")]).returncode == 0
    assert sorted(path.name for path in (tmp_path / "control").iterdir()) == ["control", "md5sums"]
    info = run(["dpkg-deb", "-I", str(deb)]).stdout
    for script in ("preinst", "postinst", "prerm", "postrm", "triggers"):
        assert script not in info


def test_file_list_modes_owner_and_symlink(deb):
    listing = run(["dpkg-deb", "-c", str(deb)]).stdout.splitlines()
    entries = {}
    for line in listing:
        match = re.match(r"(\S+) (\S+)\s+\d+ (\d{4}-\d\d-\d\d \d\d:\d\d) (\S+)(?: -> (\S+))?$", line)
        assert match, line
        mode, owner, date, path, target = match.groups()
        assert owner == "root/root", line
        assert date == EPOCH_DATE, line
        entries[path] = (mode, target)
    assert entries == EXPECTED_ENTRIES


def test_desktop_files_are_vendor_bytes(extracted):
    applications = extracted / "usr" / "share" / "applications"
    assert (applications / "Starviewer.desktop").read_bytes() == STARVIEWER_DESKTOP
    handler = (applications / "StarviewerUrlHandler.desktop").read_bytes()
    assert handler == URL_HANDLER_DESKTOP
    assert handler.count(b"\n") == 5 and b"\r" not in handler
    for absent in (b"Icon=", b"NoDisplay=", b"Terminal="):
        assert absent not in handler


def test_extracted_tree(deb, extracted, tmp_path):
    app = extracted / "opt" / "starviewer"
    assert (app / "VERSION").read_text() == VERSION + "\n"
    assert os.readlink(extracted / "usr" / "bin" / "starviewer") == "/opt/starviewer/starviewer.sh"
    assert [path.name for path in (app / "lib").iterdir()] == ["README"]
    assert (app / "logo" / "64.svg").read_text().startswith("<svg ")
    header = (app / "starviewer").read_text().splitlines()
    assert header[0] == "#!/usr/bin/python3"
    assert "TEST STAND-IN for the vendor Starviewer 2.0" in "\n".join(header[:5])
    assert "NOT medical software" in "\n".join(header[:6])
    for name in ("starviewer", "starviewer.sh", "starviewer_sapwrapper"):
        assert stat.S_IMODE((app / name).stat().st_mode) == 0o755
    assert run(["dpkg-deb", "-e", str(deb), str(tmp_path / "control")]).returncode == 0
    md5sums = (tmp_path / "control" / "md5sums").read_text()
    assert len(md5sums.splitlines()) == 8
    checked = run(["md5sum", "-c", "--strict", "-"], cwd=extracted, input=md5sums)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# --- command line -----------------------------------------------------------------------------------------

UID = "studyinstanceuid"
ACC = "accessionnumber"
GOOD_COMMAND_LINES = [
    ([], "open blank"),
    (["-studyinstanceuid", "1.2.3"], "open studyinstanceuid=1.2.3"),
    (["--studyinstanceuid", "1.2.3"], "open studyinstanceuid=1.2.3"),
    (["-studyinstanceuid=1.2.3"], "open studyinstanceuid=1.2.3"),
    (["--studyinstanceuid=1.2.3"], "open studyinstanceuid=1.2.3"),
    (["-studyinstanceuid", "1" * 64], "open studyinstanceuid=" + "1" * 64),
    (["-studyinstanceuid", "..."], "open studyinstanceuid=..."),
    (["-accessionnumber", "ACC-0042/x y"], "open accessionnumber=ACC-0042/x y"),
    (["-accessionnumber=" + "A" * 16], "open accessionnumber=" + "A" * 16),
    (["-studyinstanceuid", "1.2", "-url", "garbage"], "open studyinstanceuid=1.2"),
    (["-studyinstanceuid", "1.2", "-accessionnumber", "bad\\value"], "open studyinstanceuid=1.2"),
    (["-accessionnumber", "ACC1", "-url", "garbage"], "open accessionnumber=ACC1"),
    (["-studyinstanceuid", "9", "-studyinstanceuid", "1.2"], "open studyinstanceuid=1.2"),
    (
        ["-url", "starviewer://studyinstanceuid/1.2.840.10008"],
        "open studyinstanceuid=1.2.840.10008 url=starviewer://studyinstanceuid/1.2.840.10008",
    ),
    (["--url=starviewer://studyinstanceuid/1.2/"], "open studyinstanceuid=1.2 url=starviewer://studyinstanceuid/1.2/"),
    (
        ["-url", "starviewer://studyinstanceuid/1.2?x=1"],
        "open studyinstanceuid=1.2 url=starviewer://studyinstanceuid/1.2?x=1",
    ),
    (
        ["-url", "starviewer://studyinstanceuid/1.2/#f"],
        "open studyinstanceuid=1.2 url=starviewer://studyinstanceuid/1.2/#f",
    ),
    (
        ["-url", "starviewer://accessionnumber/ACC 7"],
        "open accessionnumber=ACC 7 url=starviewer://accessionnumber/ACC 7",
    ),
    # No percent-decoding: "A%20B" is the accession number itself.
    (
        ["-url", "starviewer://accessionnumber/A%20B"],
        "open accessionnumber=A%20B url=starviewer://accessionnumber/A%20B",
    ),
    (
        ["-url", "bad", "--url", "starviewer://accessionnumber/X1"],
        "open accessionnumber=X1 url=starviewer://accessionnumber/X1",
    ),
    (
        ["positional", "-url=starviewer://accessionnumber/X"],
        "open accessionnumber=X url=starviewer://accessionnumber/X",
    ),
]
BAD_COMMAND_LINES = [
    (["-URL", "starviewer://studyinstanceuid/1.2"], "Unknown option 'URL'."),
    (["--Url=x"], "Unknown option 'Url'."),
    (["-u", "x"], "Unknown option 'u'."),
    (["-StudyInstanceUID", "1.2"], "Unknown option 'StudyInstanceUID'."),
    (["-url"], "Missing value after '-url'."),
    (["-studyinstanceuid="], "Invalid Study Instance UID: ''"),
    (["-studyinstanceuid", "1" * 65], "Invalid Study Instance UID"),
    (["-studyinstanceuid", "1.2a"], "Invalid Study Instance UID: '1.2a'"),
    (["-studyinstanceuid", "bad", "-accessionnumber", "OK"], "Invalid Study Instance UID: 'bad'"),
    (["-accessionnumber", "A" * 17], "Invalid Accession Number"),
    (["-accessionnumber", "A\\B"], "Invalid Accession Number: 'A\\B'"),
    (["-accessionnumber", ""], "Invalid Accession Number: ''"),
    (["-url", ""], "Invalid URL: ''"),
    (["-url", "starviewer://studyinstanceuid/1.2/extra"], "Invalid URL"),
    (["-url", "starviewer://studyinstanceuid//1.2"], "Invalid URL"),
    (["-url", "starviewer://studyinstanceuid/1.2//"], "Invalid URL"),
    (["-url", "starviewer://studyinstanceuid/"], "Invalid URL"),
    (["-url", "STARVIEWER://studyinstanceuid/1.2"], "Invalid URL"),
    (["-url", "starviewer://StudyInstanceUID/1.2"], "Invalid URL"),
    (["-url", " starviewer://studyinstanceuid/1.2"], "Invalid URL"),
    (["-url", "starviewer:/studyinstanceuid/1.2"], "Invalid URL"),
    (["-url", "starviewer://studyinstanceuid/1%2E2"], "Invalid Study Instance UID: '1%2E2'"),
    (["-url", "starviewer://accessionnumber/ABCDEFGHIJKLMNOPQ"], "Invalid Accession Number"),
    (["-url", "starviewer://accessionnumber/A\\B"], "Invalid Accession Number"),
]


def run_standin(extracted: Path, args: list[str], home: Path, **env_overrides: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("XDG_CONFIG_HOME", None)
    env.update({"HOME": str(home), "XDG_CONFIG_DIRS": str(home.parent / "no-such-xdg")}, **env_overrides)
    return run([sys.executable, str(extracted / "opt" / "starviewer" / "starviewer"), *args], env=env)


@pytest.mark.parametrize(("args", "expected"), GOOD_COMMAND_LINES)
def test_command_line_good(extracted, tmp_path, args, expected):
    result = run_standin(extracted, args, tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected + "\n", "")
    log = (tmp_path / ".starviewer" / "log" / "standin.log").read_text()
    assert log.rstrip("\n").endswith(" " + expected)


@pytest.mark.parametrize(("args", "message"), BAD_COMMAND_LINES)
def test_command_line_bad(extracted, tmp_path, args, message):
    result = run_standin(extracted, args, tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert message in result.stderr


def test_uid_check_uses_qregularexpression_dollar(extracted, tmp_path):
    # PCRE's "$" also matches before a final newline; the vendor's QRegularExpression check does too.
    assert QtCore.QRegularExpression("^[0-9.]{1,64}$").match("1.2\n").hasMatch()
    result = run_standin(extracted, ["-studyinstanceuid", "1.2\n"], tmp_path)
    assert (result.returncode, result.stdout) == (0, "open studyinstanceuid=1.2\n\n")
    assert run_standin(extracted, ["-studyinstanceuid", "1.2\n\n"], tmp_path).returncode == 1


def test_version_option(extracted, tmp_path):
    result = run_standin(extracted, ["--version"], tmp_path)
    assert (result.returncode, result.stdout) == (0, VERSION + "\n")
    assert run_standin(extracted, ["-version"], tmp_path).stdout == VERSION + "\n"


# --- wrappers, with a shim in place of the program (the system python3 may lack PyQt5) -----------------

SHIM = """#!/bin/sh
{
    printf 'LD_LIBRARY_PATH=%s\\n' "$LD_LIBRARY_PATH"
    printf 'sid=%s\\n' "$(cut -d' ' -f6 /proc/$$/stat)"
    for argument in "$@"; do printf 'arg=%s\\n' "$argument"; done
} > "$SHIM_OUT.tmp" && mv "$SHIM_OUT.tmp" "$SHIM_OUT"
sleep "${SHIM_SLEEP:-0}"
"""


@pytest.fixture
def shimmed(extracted, tmp_path) -> Path:
    app = tmp_path / "opt" / "starviewer"
    shutil.copytree(extracted / "opt" / "starviewer", app, symlinks=True)
    (app / "starviewer").write_text(SHIM)
    (app / "starviewer").chmod(0o755)
    return app


def read_shim(path: Path) -> tuple[dict[str, str], list[str]]:
    lines = path.read_text().splitlines()
    fields = dict(line.split("=", 1) for line in lines if not line.startswith("arg="))
    return fields, [line[4:] for line in lines if line.startswith("arg=")]


def test_launcher_resolves_symlink_and_passes_arguments(shimmed, tmp_path):
    link = tmp_path / "bin" / "starviewer"
    link.parent.mkdir()
    link.symlink_to(shimmed / "starviewer.sh")
    out = tmp_path / "shim.out"
    args = ["--url", "starviewer://accessionnumber/A B", "a;b", ""]
    result = run([str(link), *args], env={**os.environ, "SHIM_OUT": str(out), "LD_LIBRARY_PATH": "/elsewhere"})
    assert result.returncode == 0, result.stderr
    fields, received = read_shim(out)
    assert fields["LD_LIBRARY_PATH"] == str(shimmed.resolve() / "lib")
    assert received == args


def test_sapwrapper_starts_detached(shimmed, tmp_path):
    out = tmp_path / "shim.out"
    env = {**os.environ, "SHIM_OUT": str(out), "SHIM_SLEEP": "5"}
    started = time.monotonic()
    result = run([str(shimmed / "starviewer_sapwrapper"), "ACC 0042"], env=env)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 4, "the wrapper waited for the viewer"
    deadline = time.monotonic() + 20
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    fields, received = read_shim(out)
    assert received == ["-accessionnumber", "ACC 0042"]
    assert int(fields["sid"]) != os.getsid(0)


@pytest.mark.parametrize("args", [[], ["A", "B"]])
def test_sapwrapper_needs_exactly_one_argument(shimmed, tmp_path, args):
    out = tmp_path / "shim.out"
    result = run([str(shimmed / "starviewer_sapwrapper"), *args], env={**os.environ, "SHIM_OUT": str(out)})
    assert result.returncode == 1
    assert "usage: starviewer_sapwrapper ACCESSION_NUMBER" in result.stderr
    time.sleep(0.3)
    assert not out.exists()


# --- --dump-settings ----------------------------------------------------------------------------------------


def host_values(home: Path) -> dict[str, str]:
    """The SettingsParser variables, computed here from QHostInfo and $HOME."""
    host = QtNetwork.QHostInfo.localHostName()
    addresses = [address.toString() for address in QtNetwork.QHostInfo.fromName(host).addresses()]
    ipv4 = [a for a in addresses if re.fullmatch(r"(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}", a)]
    ipv4 = [a for a in ipv4 if all(int(part) <= 255 for part in a.split("."))]
    values = {"HOSTNAME": host, "HOMEPATH": str(home)}
    parts = ipv4[0].split(".") if ipv4 else ["[N/A]"] * 4
    values["IP"] = ipv4[0] if ipv4 else "N/A"
    values.update({f"IP.{index}": part for index, part in enumerate(parts, start=1)})
    return values


def write_ini(path: Path, values: dict) -> None:
    """Write through Qt's own INI writer (what NativeFormat is on Linux)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    settings = QtCore.QSettings(str(path), QtCore.QSettings.IniFormat)
    for key, value in values.items():
        if key == "PacsList":
            settings.beginWriteArray("PacsList")
            for index, entry in enumerate(value):
                settings.setArrayIndex(index)
                for field, field_value in entry.items():
                    settings.setValue(field, field_value)
            settings.endArray()
        else:
            settings.setValue(key, value)
    settings.sync()
    assert settings.status() == QtCore.QSettings.NoError


@pytest.fixture
def settings_dirs(tmp_path) -> tuple[Path, Path, str]:
    """HOME, the system config dir, and an XDG_CONFIG_DIRS whose first entry is empty."""
    home = tmp_path / "home"
    home.mkdir()
    system = tmp_path / "xdg"
    return home, system, f"{tmp_path / 'xdg-first'}:{system}"


def dump(extracted: Path, home: Path, xdg_dirs: str) -> dict:
    result = run_standin(extracted, ["--dump-settings"], home, XDG_CONFIG_DIRS=xdg_dirs)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


SYSTEM_VALUES = {
    "PACS/pacsparam/AETitle": "SYS_%HOSTNAME%",
    "PACS/pacsparam/localPort": 104,
    "PACS/defaultPACSListToQuery2": "PACS_A10.0.0.5:104\\\\https://pacs.example.org/wado\\\\",
    "PacsList": [
        {
            "ID": "0",
            "Type": "DIMSE",
            "AETitle": "PACS_A",
            "PacsHostname": "10.0.0.5",
            "QueryRetrieveServiceEnabled": True,
            "PacsPort": 104,
            "Institution": "Hospital Sant Exemple",
        },
        {"ID": "1", "Type": "WADO", "BaseUri": None, "Description": "Arxiu d'imatges \u00e9"},
    ],
    "Test/typedList": [7, True, "x"],
    "Test/stringList": ["a", "b"],
    "Test/oneInt": [7],
    "Test/map": {"n": 7, "b": True},
    "Test/bytes": None,
    "Test/invalid": None,
}


def system_values() -> dict:
    values = dict(SYSTEM_VALUES)
    values["PacsList"] = [dict(entry) for entry in SYSTEM_VALUES["PacsList"]]
    values["PacsList"][1]["BaseUri"] = QtCore.QUrl("https://pacs.example.org/wado x")
    values["Test/typedList"] = [*SYSTEM_VALUES["Test/typedList"], QtCore.QUrl("http://example.org/")]
    values["Test/bytes"] = QtCore.QByteArray(b"\x00\x01AB")
    return values


def test_dump_settings_user_shadows_system_key_by_key(extracted, settings_dirs):
    home, system, xdg_dirs = settings_dirs
    write_ini(system / "GILab" / "Starviewer.conf", system_values())
    write_ini(
        home / ".config" / "GILab" / "Starviewer.conf", {"PACS/pacsparam/AETitle": "WS_%HOSTNAME%", "Only/user": "u"}
    )
    user_before = (home / ".config" / "GILab" / "Starviewer.conf").read_bytes()

    data = dump(extracted, home, xdg_dirs)

    keys, types = data["keys"], data["types"]
    host = host_values(home)
    assert data["version"] == VERSION
    assert keys["PACS/pacsparam/AETitle"] == "WS_%HOSTNAME%"
    assert keys["Only/user"] == "u"
    assert (keys["PACS/pacsparam/localPort"], types["PACS/pacsparam/localPort"]) == ("104", "QString")
    assert keys["PacsList/size"] == "2"
    assert keys["PacsList/1/QueryRetrieveServiceEnabled"] == "true"
    assert keys["PacsList/1/Institution"] == "Hospital Sant Exemple"
    assert keys["PacsList/2/Description"] == "Arxiu d'imatges \u00e9"
    assert (keys["PacsList/2/BaseUri"], types["PacsList/2/BaseUri"]) == (
        {"QUrl": "https://pacs.example.org/wado%20x"},
        "QUrl",
    )
    # A multi-item list is written as comma text, so only its @Variant items come back typed ...
    assert (keys["Test/typedList"], types["Test/typedList"]) == (
        ["7", "true", "x", {"QUrl": "http://example.org/"}],
        "QVariantList",
    )
    # ... while a one-item list and a map are written whole as @Variant(...) and keep int and bool.
    assert (keys["Test/oneInt"], types["Test/oneInt"]) == ([7], "QVariantList")
    assert (keys["Test/map"], types["Test/map"]) == ({"QVariantMap": {"b": True, "n": 7}}, "QVariantMap")
    assert (keys["Test/stringList"], types["Test/stringList"]) == (["a", "b"], "QStringList")
    assert (keys["Test/bytes"], types["Test/bytes"]) == ({"QByteArray": "00014142"}, "QByteArray")
    assert (keys["Test/invalid"], types["Test/invalid"]) == (None, "Invalid")
    assert data["expression_table"] == host
    assert data["effective"] == {
        "ae_title": "WS_" + host["HOSTNAME"],
        "local_port": 104,
        "pacs_count": 2,
        "default_pacs": ["PACS_A10.0.0.5:104", "https://pacs.example.org/wado"],
        "default_pacs_migrated": False,
        "cache_image_path": f"{home}/.starviewer/pacs/dicom/",
        "cache_database_path": f"{home}/.starviewer/pacs/database/dicom.sdb",
    }
    assert (home / ".config" / "GILab" / "Starviewer.conf").read_bytes() == user_before


def test_dump_settings_defaults_without_files(extracted, settings_dirs):
    home, _system, xdg_dirs = settings_dirs
    data = dump(extracted, home, xdg_dirs)
    assert data["keys"] == {}
    assert data["effective"] == {
        "ae_title": host_values(home)["HOSTNAME"],
        "local_port": 4006,
        "pacs_count": 0,
        "default_pacs": [],
        "default_pacs_migrated": False,
        "cache_image_path": f"{home}/.starviewer/pacs/dicom/",
        "cache_database_path": f"{home}/.starviewer/pacs/database/dicom.sdb",
    }
    assert list(home.iterdir()) == [], "reading settings must not create files"


@pytest.mark.parametrize(
    ("values", "effective"),
    [
        ({"PACS/pacsparam/AETitle": ""}, {"ae_title": ""}),
        ({"PACS/pacsparam/AETitle": None}, {"ae_title": "<host>"}),
        ({"PACS/pacsparam/AETitle": ["A", "B"]}, {"ae_title": ""}),
        ({"PACS/pacsparam/localPort": "abc"}, {"local_port": 0}),
        ({"PACS/pacsparam/localPort": " 11112 "}, {"local_port": 11112}),
        ({"PACS/cache/imagePath": "/srv/%HOSTNAME%/"}, {"cache_image_path": "/srv/<host>/"}),
        (
            {"PACS/defaultPACSListToQuery": "PACS_A10.0.0.5:104//PACS_B10.0.0.6:11112//"},
            {"default_pacs": ["PACS_A10.0.0.5:104", "PACS_B10.0.0.6:11112"], "default_pacs_migrated": True},
        ),
        (
            {"PACS/defaultPACSListToQuery": "OLD1.2.3.4:1//", "PACS/defaultPACSListToQuery2": "NEW1.2.3.4:1\\\\"},
            {"default_pacs": ["NEW1.2.3.4:1"], "default_pacs_migrated": False},
        ),
        ({"PACS/defaultPACSListToQuery2": "\\\\\\\\A\\\\\\B\\\\"}, {"default_pacs": ["A", "\\B"]}),
    ],
)
def test_dump_settings_effective_values(extracted, settings_dirs, values, effective):
    home, _system, xdg_dirs = settings_dirs
    write_ini(home / ".config" / "GILab" / "Starviewer.conf", values)
    got = dump(extracted, home, xdg_dirs)["effective"]
    host = host_values(home)["HOSTNAME"]
    for name, expected in effective.items():
        if isinstance(expected, str):
            expected = expected.replace("<host>", host)
        assert got[name] == expected, name


def _right(text: str, width: int) -> str:
    return text[-width:] if width > 0 else ""


AE_EXPRESSIONS = [
    ("%HOSTNAME%", lambda v: v["HOSTNAME"]),
    ("SV_%HOSTNAME%_X", lambda v: "SV_" + v["HOSTNAME"] + "_X"),
    ("%HOSTNAME%%HOSTNAME%", lambda v: v["HOSTNAME"] * 2),
    ("%hostname%", lambda v: "%hostname%"),
    ("%FOO%", lambda v: "%FOO%"),
    ("%FOO%[3:0]", lambda v: "%FOO%[3:0]"),
    ("%USERNAME%", lambda v: "%USERNAME%"),
    ("%HOMEPATH%/x", lambda v: v["HOMEPATH"] + "/x"),
    ("%HOMEPATH%[6:]", lambda v: _right(v["HOMEPATH"], 6)),
    ("%HOMEPATH%[300:#]", lambda v: _right(v["HOMEPATH"], 300).rjust(300, "#")),
    ("%HOSTNAME%[1:]", lambda v: _right(v["HOSTNAME"], 1)),
    ("%HOSTNAME%[40:]", lambda v: _right(v["HOSTNAME"], 40)),
    ("%HOSTNAME%[40:_]", lambda v: _right(v["HOSTNAME"], 40).rjust(40, "_")),
    ("%HOSTNAME%[08:]]", lambda v: _right(v["HOSTNAME"], 8).rjust(8, "]")),
    ("%HOSTNAME%[8:%]", lambda v: _right(v["HOSTNAME"], 8).rjust(8, "%")),
    ("%HOSTNAME%[0:x]", lambda v: ""),
    ("%HOSTNAME%[99999999999:x]", lambda v: ""),
    ("%HOSTNAME%[4:ab]", lambda v: v["HOSTNAME"] + "[4:ab]"),
    ("%HOSTNAME%[4: ]", lambda v: v["HOSTNAME"] + "[4: ]"),
    ("%IPX1%", lambda v: ""),
    ("%IPX1%[3:0]", lambda v: "000"),
    # Leftmost-longest: "%IP.1%" (unescaped dot) beats the shorter "%IP%" and names no variable.
    ("A%IP%1%B", lambda v: "AB"),
    ("%IP%", lambda v: v["IP"]),
    ("%IP.1%.%IP.2%.%IP.3%.%IP.4%", lambda v: ".".join(v[f"IP.{n}"] for n in range(1, 5))),
    ("WS%IP.4%[3:0]", lambda v: "WS" + _right(v["IP.4"], 3).rjust(3, "0")),
]


@pytest.mark.parametrize(("expression", "expected"), AE_EXPRESSIONS, ids=[case[0] for case in AE_EXPRESSIONS])
def test_dump_settings_ae_title_expressions(extracted, settings_dirs, expression, expected):
    home, system, xdg_dirs = settings_dirs
    write_ini(system / "GILab" / "Starviewer.conf", {"PACS/pacsparam/AETitle": expression})
    data = dump(extracted, home, xdg_dirs)
    assert data["keys"]["PACS/pacsparam/AETitle"] == expression
    assert data["effective"]["ae_title"] == expected(host_values(home))


def test_dump_settings_refuses_what_would_hang_the_vendor_program(extracted, tmp_path):
    # The vendor program would allocate a 2-million-character AE title, or loop forever when a
    # value contains its own token; the stand-in reports both instead.
    wide = tmp_path / "wide"
    write_ini(wide / ".config" / "GILab" / "Starviewer.conf", {"PACS/pacsparam/AETitle": "%HOSTNAME%[2000000:x]"})
    result = run_standin(extracted, ["--dump-settings"], wide)
    assert result.returncode == 1
    assert "wider than the stand-in allows" in result.stderr

    looping = tmp_path / "home%HOMEPATH%"
    write_ini(looping / ".config" / "GILab" / "Starviewer.conf", {"PACS/pacsparam/AETitle": "%HOMEPATH%"})
    result = run_standin(extracted, ["--dump-settings"], looping)
    assert result.returncode == 1
    assert "did not finish after 1000 passes" in result.stderr
