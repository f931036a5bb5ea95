# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side installer verification (see the starviewer_installer module docs)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile

from ansible.plugins.action import ActionBase

from ansible_collections.medimaging.starviewer.plugins.module_utils.installer import (
    deb_control,
    file_digests,
    normalize_sha256,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.msi import (
    STARVIEWER_UPGRADE_CODE,
    msi_version,
    normalize_guid,
    parse_property_table,
)


def msi_properties(path: str) -> dict | None:
    """The MSI's Property table read with msitools' msiinfo, or None when msiinfo is not installed."""
    tool = shutil.which("msiinfo")
    if tool is None:
        return None
    proc = subprocess.run([tool, "export", path, "Property"], capture_output=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise ValueError("msiinfo cannot read it as an MSI: %s" % proc.stderr.decode("utf-8", "replace").strip())
    return parse_property_table(proc.stdout.decode("utf-8", "replace"))


def msi_info(path: str, version: str) -> dict:
    """format/package/version/product_code/upgrade_code of a Starviewer MSI; ValueError saying what to fix."""
    props = msi_properties(path)
    if props is None:
        if not version:
            raise ValueError("msiinfo (Debian package msitools) is not installed on the controller, so the MSI's "
                             "ProductVersion cannot be read: install msitools or set starviewer_installer_version")
        msi_version(version, "starviewer_installer_version")
        return {"format": "msi", "package": "Starviewer", "version": version, "product_code": "", "upgrade_code": ""}
    upgrade_code = normalize_guid(props.get("UpgradeCode", ""), "the MSI's UpgradeCode")
    if upgrade_code != STARVIEWER_UPGRADE_CODE:
        raise ValueError("not the Starviewer MSI: its UpgradeCode is %s (ProductName %r); Starviewer's is %s"
                         % (upgrade_code, props.get("ProductName", ""), STARVIEWER_UPGRADE_CODE))
    found = props.get("ProductVersion", "")
    msi_version(found, "the MSI's ProductVersion")
    if version and msi_version(version, "starviewer_installer_version") != msi_version(found):
        raise ValueError("starviewer_installer_version: got %r but the MSI's ProductVersion is %r; leave the variable "
                         "empty or make them agree" % (version, found))
    return {"format": "msi", "package": props.get("ProductName", "Starviewer"), "version": found,
            "product_code": normalize_guid(props.get("ProductCode", ""), "the MSI's ProductCode"),
            "upgrade_code": upgrade_code}


# A DEB's control archive comes right after its 8-byte magic and debian-binary member; 16 MiB is far more than any.
_DEB_HEAD = 16 << 20


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        path = args.get("path")
        delete_on_mismatch = bool(args.get("delete_on_mismatch", False))
        try:
            expected = normalize_sha256(args.get("checksum"), args.get("checksum_variable", "checksum"))
        except ValueError as exc:
            return dict(result, failed=True, msg=str(exc))
        if not path or not os.path.isabs(path):
            return dict(result, failed=True, msg="path: got %r; allowed: an absolute path on the controller" % (path,))
        # Resolve links once: the copy task sends this exact file, and checks it by the SHA-1 computed here.
        path = os.path.realpath(path)
        if not os.path.isfile(path):
            return dict(result, failed=True, msg="installer %r not found on the controller" % (path,))

        # Verified earlier in this run (site.yml's first play): the same bytes need not be read again.
        verified = args.get("verified") or {}
        if isinstance(verified, dict) and verified.get("sha256") == expected and verified.get("path") == path:
            result.update(changed=False, installer=dict(verified), reused=True)
            return result

        # One read for both hashes and, for a DEB, its control archive (which sits at the front of the file).
        digests = file_digests(path, head=_DEB_HEAD if path.endswith(".deb") else 0)
        head = digests.pop("head", b"")
        if digests["sha256"] != expected:
            if delete_on_mismatch:
                os.unlink(path)
            return dict(result, failed=True, expected=expected, actual=digests["sha256"],
                        msg="SHA-256 of %s does not match: expected %s, actual %s%s. Nothing was installed; "
                            "check the file and the checksum you were given."
                            % (os.path.basename(path), expected, digests["sha256"],
                               " (file deleted)" if delete_on_mismatch else ""))

        info = dict(digests, path=path, filename=os.path.basename(path))
        if path.endswith(".deb"):
            try:
                control = deb_control(head)
            except (ValueError, tarfile.TarError) as exc:
                why = str(exc)
                if len(head) < digests["size"]:
                    why = "no complete control archive in its first %d bytes (%s)" % (_DEB_HEAD, exc)
                return dict(result, failed=True, msg="%s: %s" % (path, why))
            info.update(format="deb", package=control.get("Package", ""), version=control.get("Version", ""))
            if args.get("version"):
                info["version"] = args["version"]
        elif path.endswith(".msi"):
            try:
                info.update(msi_info(path, args.get("version") or ""))
            except (ValueError, OSError, subprocess.SubprocessError) as exc:
                return dict(result, failed=True, msg="%s: %s" % (path, exc))
        else:
            return dict(result, failed=True, msg="installer %s: allowed: a .deb or .msi file" % path)
        result.update(changed=False, installer=info)
        return result
