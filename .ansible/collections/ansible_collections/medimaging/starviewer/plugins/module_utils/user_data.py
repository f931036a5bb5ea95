# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-user Starviewer data on Linux workstations: accounts, running instances, cache paths, safe deletion.

Internal use only: shared by the starviewer_wipe and starviewer_enforce modules, not a public API.
Standard library only (shipped to workstations running Python 3.9+). The decisions (which paths belong to
Starviewer, which process is Starviewer, what a user's settings resolve to) are pure functions; the I/O helpers
below them open every path component with O_NOFOLLOW relative to a directory descriptor, so a symbolic link
planted by a user can never redirect a deletion or a write made as root.
"""

from __future__ import annotations

import errno
import os
import pwd
import signal
import socket
import stat
import time

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import INVALID, QtIniDocument
from ansible_collections.medimaging.starviewer.plugins.module_utils.starviewer import ae_title_expr

__all__ = [
    "CACHE_KEYS",
    "PathRefused",
    "cache_paths",
    "custom_path_problem",
    "find_processes",
    "host_identity",
    "is_program_process",
    "is_within",
    "list_accounts",
    "plan_targets",
    "read_user_file",
    "replace_user_file",
    "scan_target",
    "setting_value",
    "stop_processes",
    "uid_range",
]

DATA_DIR = ".starviewer"
USER_CONFIG = ".config/GILab/Starviewer.conf"
USER_ORG_CONFIG = ".config/GILab.conf"
CACHE_KEYS = ("PACS/cache/imagePath", "PACS/cache/sdatabasePath")
# Defaults of the two keys relative to the home directory (starviewer-behaviour.md section 2).
_CACHE_DEFAULTS = {
    "PACS/cache/imagePath": DATA_DIR + "/pacs/dicom/",
    "PACS/cache/sdatabasePath": DATA_DIR + "/pacs/database/dicom.sdb",
}
_CACHE_KINDS = {"PACS/cache/imagePath": "image-cache", "PACS/cache/sdatabasePath": "database"}
# SQLite keeps uncommitted rows (patient names, study descriptions) in these files beside the database.
SQLITE_SIDECARS = ("-journal", "-wal", "-shm")
_NOBODY_UID = 65534
_SHELLS = ("bash", "sh", "dash")
_MAX_DEPTH = 200
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class PathRefused(Exception):
    """A target that must not be touched; the message says why."""


# ---------------------------------------------------------------------------------------------------------------
# Accounts
# ---------------------------------------------------------------------------------------------------------------


def uid_range(login_defs: str | None) -> tuple[int, int]:
    """UID_MIN and UID_MAX of ordinary accounts from /etc/login.defs text (Debian's 1000 and 60000 otherwise)."""
    found = {"UID_MIN": 1000, "UID_MAX": 60000}
    for line in (login_defs or "").splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in found and fields[1].isdigit():
            found[fields[0]] = int(fields[1])
    return found["UID_MIN"], found["UID_MAX"]


def is_login_uid(uid: int, bounds: tuple[int, int]) -> bool:
    """Whether ``uid`` is an ordinary (human) account, the ones reported even when they hold nothing."""
    return bounds[0] <= uid <= bounds[1] and uid != _NOBODY_UID


def list_accounts(names: list[str] | None = None) -> tuple[list[dict], list[str]]:
    """Accounts as dicts (name, uid, gid, home) and the requested names that do not exist.

    Without ``names``: every account the passwd database enumerates whose home is an absolute path other than /.
    """
    found: list[dict] = []
    missing: list[str] = []
    if names:
        for name in dict.fromkeys(names):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                missing.append(name)
                continue
            found.append(_account(entry))
        return found, missing
    seen = set()
    for entry in pwd.getpwall():
        home = os.path.normpath(entry.pw_dir) if entry.pw_dir.startswith("/") else ""
        if entry.pw_name in seen or not home or home == "/":
            continue
        seen.add(entry.pw_name)
        found.append(_account(entry))
    return found, missing


def _account(entry) -> dict:
    home = os.path.normpath(entry.pw_dir) if entry.pw_dir.startswith("/") else entry.pw_dir
    return {"name": entry.pw_name, "uid": entry.pw_uid, "gid": entry.pw_gid, "home": home}


def host_identity() -> tuple[str, str | None]:
    """Host name and first IPv4 address it resolves to: Starviewer's %HOSTNAME% and %IP%."""
    hostname = socket.gethostname()
    try:
        infos = socket.getaddrinfo(hostname, None, socket.AF_UNSPEC, 0, 0, socket.AI_ADDRCONFIG)
    except (socket.gaierror, UnicodeError):
        return hostname, None
    for family, _type, _proto, _name, sockaddr in infos:
        if family == socket.AF_INET:
            return hostname, sockaddr[0]
    return hostname, None


# ---------------------------------------------------------------------------------------------------------------
# Running instances
# ---------------------------------------------------------------------------------------------------------------


def is_program_process(exe: str, cmdline: list[str], programs: list[str]) -> bool:
    """Whether a process is one of ``programs``: its executable, its argv[0], or an interpreter's script argument.

    The script form is the test stand-in (a python3 script started through its shebang); a native Starviewer is
    matched by /proc/<pid>/exe, or by argv[0] when it was started through starviewer.sh's exec.
    """
    if exe.endswith(" (deleted)"):
        # An upgrade or uninstall replaced the file while the old instance keeps running.
        exe = exe[: -len(" (deleted)")]
    if exe in programs or (cmdline and cmdline[0] in programs):
        return True
    base = os.path.basename(exe)
    if not (base.startswith("python") or base in _SHELLS):
        return False
    for argument in cmdline[1:]:
        if not argument.startswith("-"):
            return argument in programs
    return False


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _process_info(pid: int, proc: str) -> dict | None:
    base = "%s/%d" % (proc, pid)
    status = _read(base + "/status")
    raw_stat = _read(base + "/stat")
    if status is None or raw_stat is None:
        return None
    uids: list[int] = []
    for line in status.decode("latin-1").splitlines():
        if line.startswith("Uid:"):
            uids = [int(field) for field in line.split()[1:3]]
    # The command name in stat may contain spaces and parentheses: the fields start after the last ")".
    fields = raw_stat[raw_stat.rindex(b")") + 2 :].split()
    try:
        exe = os.readlink(base + "/exe")
    except OSError:
        exe = ""
    raw_cmdline = (_read(base + "/cmdline") or b"").rstrip(b"\0")
    cmdline = raw_cmdline.split(b"\0") if raw_cmdline else []
    return {
        "pid": pid,
        "uids": uids,
        "state": fields[0].decode("latin-1"),
        "start": int(fields[19]),
        "exe": exe,
        "cmdline": [part.decode("utf-8", "surrogateescape") for part in cmdline],
    }


def find_processes(programs: list[str], proc: str = "/proc") -> list[dict]:
    """Running (not zombie) processes of ``programs``: dicts with pid, uids (real, effective), start, exe, cmdline."""
    wanted = set(programs) | {os.path.realpath(program) for program in programs}
    found = []
    for name in os.listdir(proc):
        if not name.isdigit():
            continue
        info = _process_info(int(name), proc)
        if info and info["state"] != "Z" and is_program_process(info["exe"], info["cmdline"], sorted(wanted)):
            found.append(info)
    return found


def _same_process(info: dict, proc: str) -> bool:
    now = _process_info(info["pid"], proc)
    return now is not None and now["start"] == info["start"] and now["state"] != "Z"


def _signal(info: dict, handle: int | None, signum: int) -> None:
    try:
        if handle is not None:
            signal.pidfd_send_signal(handle, signum)
        else:
            os.kill(info["pid"], signum)
    except ProcessLookupError:
        pass


def stop_processes(processes: list[dict], timeout: float, proc: str = "/proc") -> list[int]:
    """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL; returns the pids still running afterwards.

    A pidfd (Linux 5.3+) pins each process before it is signalled, so a pid reused meanwhile is never hit.
    """
    handles: dict[int, int | None] = {}
    live = []
    for info in processes:
        handle = None
        try:
            handle = os.pidfd_open(info["pid"])
        except (AttributeError, OSError):
            handle = None
        if not _same_process(info, proc):
            if handle is not None:
                os.close(handle)
            continue
        handles[info["pid"]] = handle
        live.append(info)
    try:
        for info in live:
            _signal(info, handles[info["pid"]], signal.SIGTERM)
        live = _wait_gone(live, timeout, proc)
        for info in live:
            _signal(info, handles[info["pid"]], signal.SIGKILL)
        live = _wait_gone(live, 5.0, proc)
    finally:
        for handle in handles.values():
            if handle is not None:
                os.close(handle)
    return [info["pid"] for info in live]


def _wait_gone(processes: list[dict], timeout: float, proc: str) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        processes = [info for info in processes if _same_process(info, proc)]
        if not processes or time.monotonic() >= deadline:
            return processes
        time.sleep(0.1)


# ---------------------------------------------------------------------------------------------------------------
# Settings: where a user's cache really is
# ---------------------------------------------------------------------------------------------------------------


def setting_value(documents: list[tuple[str, QtIniDocument | None]], key: str) -> tuple[object, str | None]:
    """(value, file) of ``key`` from the first file that holds it, as Qt's fallbacks read it; (None, None) if none.

    ``documents`` are (path, parsed file or None) in Qt's order: user file, user organisation file, then each
    system directory's application file and organisation file.
    """
    for path, document in documents:
        if document is not None and key in document.keys():
            return document.get(key), path
    return None, None


def _as_text(value: object) -> str | None:
    # PersistentSettings reads these keys with QVariant::toString(): a one-item string list becomes its item.
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
        return value[0]
    return None


def cache_paths(documents: list[tuple[str, QtIniDocument | None]], home: str, hostname: str,
                ip: str | None) -> list[dict]:
    """The user's image cache and database paths, expanded as Starviewer 2.0 does.

    Each dict has key, kind, raw (the stored text or None), source (file or None), custom (a stored value was
    used), path (expanded, trailing separators removed, or None) and problem (why there is no usable path).
    """
    found = []
    for key in CACHE_KEYS:
        value, source = setting_value(documents, key)
        entry = {"key": key, "kind": _CACHE_KINDS[key], "raw": None, "source": source, "custom": False,
                 "path": None, "problem": None}
        if value is None or value is INVALID:
            # PersistentSettings uses the default only for an absent or invalid value, never for "".
            text = home + "/" + _CACHE_DEFAULTS[key]
        else:
            text = _as_text(value)
            entry.update(raw=text if text is not None else repr(value), custom=True)
            if text is None:
                entry["problem"] = "the value is not a text Starviewer can use as a path"
                found.append(entry)
                continue
            try:
                text = ae_title_expr(text, hostname, ip, home)
            except ValueError as exc:
                entry["problem"] = "cannot expand the expression: %s" % exc
                found.append(entry)
                continue
        stripped = text.rstrip("/")
        entry["path"] = stripped if stripped else text
        found.append(entry)
    return found


# ---------------------------------------------------------------------------------------------------------------
# Which paths may be deleted
# ---------------------------------------------------------------------------------------------------------------


def is_within(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or below it (both normalised absolute paths)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def custom_path_problem(path: str, homes: list[str], protected: list[str]) -> str | None:
    """Why a cache path taken from the settings must not be deleted, or None when it is clearly Starviewer's.

    The rule: an absolute path without "." or ".." parts, at least two levels below /, that is not a home directory
    (nor holds one), is not inside a protected folder (the install folder, /etc, /usr, ...), and has a part whose
    name contains "starviewer" (the default ~/.starviewer/pacs/..., or folders such as /srv/starviewer-cache/...).
    """
    if not path.startswith("/"):
        return "not an absolute path"
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts):
        return "contains . or .. (the real folder depends on symbolic links)"
    if len(parts) < 2:
        return "too close to / (at least two levels below / are required)"
    normalised = "/" + "/".join(parts)
    for home in homes:
        if is_within(home, normalised):
            return "is or contains the home directory %s" % home
    for folder in protected:
        if is_within(normalised, folder) or is_within(folder, normalised):
            return "is, holds or lies in the protected folder %s" % folder
    if not any("starviewer" in part.lower() for part in parts):
        return "no folder or file name on the path contains 'starviewer', so it is not clearly Starviewer's"
    return None


def _overlaps(left: str, right: str) -> bool:
    return is_within(left, right) or is_within(right, left)


def plan_targets(accounts: list[dict], include_config: bool, protected: list[str]) -> dict[str, dict]:
    """Per account name: {"targets": [...], "refused": [...]} of what a wipe deletes.

    ``accounts`` are dicts with name, home and cache (the output of cache_paths). A target is {path, kind,
    custom}; a refusal is {path, kind, reason}. Default targets are ~/.starviewer and, with ``include_config``,
    ~/.config/GILab/Starviewer.conf. Custom cache paths are added when custom_path_problem accepts them and they
    are not inside a default target already. A path that overlaps a path of another account is refused for
    safety: it is shared data, or a home directory shared by two accounts.
    """
    homes = sorted({account["home"] for account in accounts})
    plans: dict[str, dict] = {}
    for account in accounts:
        home = account["home"]
        targets = [{"path": home + "/" + DATA_DIR, "kind": "data", "custom": False}]
        if include_config:
            targets.append({"path": home + "/" + USER_CONFIG, "kind": "config", "custom": False})
        refused = []
        for cache in account.get("cache", []):
            if not cache["custom"]:
                continue
            if cache["problem"]:
                refused.append({"path": cache["raw"], "kind": cache["kind"], "reason": cache["problem"]})
                continue
            path = cache["path"]
            problem = custom_path_problem(path, homes, protected)
            if problem:
                refused.append({"path": path, "kind": cache["kind"], "reason": problem})
                continue
            path = "/" + "/".join(part for part in path.split("/") if part)
            if any(is_within(path, target["path"]) for target in targets):
                continue
            targets.append({"path": path, "kind": cache["kind"], "custom": True})
            if cache["kind"] == "database":
                targets += [{"path": path + suffix, "kind": "database", "custom": True} for suffix in SQLITE_SIDECARS]
        plans[account["name"]] = {"targets": targets, "refused": refused}
    # Decide every overlap on the full picture first, so that two accounts sharing a path both lose it.
    shared: dict[str, dict[int, list[str]]] = {}
    for name, plan in plans.items():
        for index, target in enumerate(plan["targets"]):
            others = sorted({
                other_name
                for other_name, other in plans.items()
                if other_name != name
                for theirs in other["targets"]
                if (target["custom"] or not theirs["custom"]) and _overlaps(target["path"], theirs["path"])
            })
            if others:
                shared.setdefault(name, {})[index] = others
    for name, indexes in shared.items():
        plan = plans[name]
        for index, others in indexes.items():
            target = plan["targets"][index]
            plan["refused"].append({"path": target["path"], "kind": target["kind"],
                                    "reason": "also a path of %s" % ", ".join(others)})
        plan["targets"] = [target for index, target in enumerate(plan["targets"]) if index not in indexes]
    return plans


# ---------------------------------------------------------------------------------------------------------------
# I/O: walking and deleting without ever following a symbolic link
# ---------------------------------------------------------------------------------------------------------------


def _open_parent(path: str, home: str | None) -> tuple[int, str] | None:
    """Descriptor of the folder holding ``path`` and the last name, or None when a folder on the way is absent.

    Below the home directory every component is opened with O_NOFOLLOW; the home itself is opened through its real
    path (it comes from the passwd database, and /home may legitimately be a link on some sites).
    """
    if home and path.startswith(home.rstrip("/") + "/"):
        base, rel = os.path.realpath(home), path[len(home.rstrip("/")) + 1 :]
    else:
        base, rel = "/", path.lstrip("/")
    parts = [part for part in rel.split("/") if part]
    if not parts:
        raise PathRefused("nothing below %s to act on" % base)
    try:
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    walked = base.rstrip("/")
    try:
        for part in parts[:-1]:
            walked += "/" + part
            try:
                child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                os.close(fd)
                return None
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                info = os.stat(part, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    raise PathRefused("the path goes through the symbolic link %s -> %s"
                                      % (walked, os.readlink(part, dir_fd=fd))) from None
                raise PathRefused("%s is not a folder" % walked) from None
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1]


def _walk(dir_fd: int, where: str, device: int, delete: bool, tally: dict, depth: int) -> bool:
    """Count (and delete) everything below an open folder; True when nothing had to be left behind."""
    if depth > _MAX_DEPTH:
        tally["kept"].append({"path": where, "reason": "more than %d folders deep" % _MAX_DEPTH})
        return False
    complete = True
    with os.scandir(dir_fd) as entries:
        names = sorted(entry.name for entry in entries)
    for name in names:
        path = where + "/" + name
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(info.st_mode):
            if info.st_dev != device:
                tally["kept"].append({"path": path, "reason": "another file system is mounted there"})
                complete = False
                continue
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
            except OSError as exc:
                tally["errors"].append({"path": path, "error": os.strerror(exc.errno or 0)})
                complete = False
                continue
            try:
                if not os.path.samestat(info, os.fstat(child)):
                    tally["errors"].append({"path": path, "error": "replaced while being read"})
                    complete = False
                    continue
                below = _walk(child, path, device, delete, tally, depth + 1)
            finally:
                os.close(child)
            if not below:
                complete = False
                continue
            if delete:
                try:
                    os.rmdir(name, dir_fd=dir_fd)
                except OSError as exc:
                    tally["errors"].append({"path": path, "error": os.strerror(exc.errno or 0)})
                    complete = False
                    continue
            tally["dirs"] += 1
        else:
            # Symbolic links, sockets and the like are removed as entries: unlink never touches a link's target.
            if delete:
                try:
                    os.unlink(name, dir_fd=dir_fd)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    tally["errors"].append({"path": path, "error": os.strerror(exc.errno or 0)})
                    complete = False
                    continue
            tally["files"] += 1
            if stat.S_ISREG(info.st_mode):
                tally["bytes"] += info.st_size
    return complete


def scan_target(path: str, home: str | None, delete: bool, owner: int | None = None) -> dict:
    """Count, and with ``delete`` remove, a file or folder tree; symbolic links inside are removed, never followed.

    Returns {path, exists, files, bytes, dirs, kept, errors}: files counts every non-folder entry, bytes the sizes
    of regular files, dirs the folders (the target included). Raises PathRefused when the target itself is a
    symbolic link, is reached through one, or (with ``owner``) belongs to another uid.
    """
    tally = {"path": path, "exists": False, "files": 0, "bytes": 0, "dirs": 0, "kept": [], "errors": []}
    opened = _open_parent(path, home)
    if opened is None:
        return tally
    parent, leaf = opened
    try:
        try:
            info = os.stat(leaf, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return tally
        tally["exists"] = True
        if stat.S_ISLNK(info.st_mode):
            raise PathRefused("is a symbolic link to %s; neither the link nor its target is deleted"
                              % os.readlink(leaf, dir_fd=parent))
        if owner is not None and info.st_uid != owner:
            raise PathRefused("belongs to uid %d, not to the user (uid %d)" % (info.st_uid, owner))
        if not stat.S_ISDIR(info.st_mode):
            if delete:
                os.unlink(leaf, dir_fd=parent)
            tally["files"] = 1
            tally["bytes"] = info.st_size if stat.S_ISREG(info.st_mode) else 0
            return tally
        fd = os.open(leaf, _DIR_FLAGS, dir_fd=parent)
        try:
            if not os.path.samestat(info, os.fstat(fd)):
                raise PathRefused("was replaced while being read")
            complete = _walk(fd, path, info.st_dev, delete, tally, 1)
        finally:
            os.close(fd)
        if complete:
            if delete:
                try:
                    os.rmdir(leaf, dir_fd=parent)
                except OSError as exc:
                    tally["errors"].append({"path": path, "error": os.strerror(exc.errno or 0)})
                    return tally
            tally["dirs"] += 1
        return tally
    finally:
        os.close(parent)


def read_user_file(path: str, home: str) -> tuple[bytes, os.stat_result] | None:
    """Content and lstat of a regular file below ``home``, or None when absent; PathRefused for links and others."""
    opened = _open_parent(path, home)
    if opened is None:
        return None
    parent, leaf = opened
    try:
        try:
            fd = os.open(leaf, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=parent)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise PathRefused("is a symbolic link to %s; it is not edited"
                                  % os.readlink(leaf, dir_fd=parent)) from None
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise PathRefused("is not a regular file")
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks), info
        finally:
            os.close(fd)
    finally:
        os.close(parent)


def replace_user_file(path: str, home: str, data: bytes, like: os.stat_result) -> None:
    """Atomically replace a file below ``home`` with ``data``, keeping the owner, group and mode of ``like``."""
    opened = _open_parent(path, home)
    if opened is None:
        raise PathRefused("its folder disappeared")
    parent, leaf = opened
    try:
        temp = None
        for attempt in range(100):
            name = ".%s.%d.%d" % (leaf, os.getpid(), attempt)
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                             dir_fd=parent)
            except FileExistsError:
                continue
            temp = name
            break
        if temp is None:
            raise PathRefused("no free temporary name next to it")
        try:
            try:
                os.fchown(fd, like.st_uid, like.st_gid)
                os.fchmod(fd, stat.S_IMODE(like.st_mode))
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temp, leaf, src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            try:
                os.unlink(temp, dir_fd=parent)
            except OSError:
                pass
            raise
    finally:
        os.close(parent)
