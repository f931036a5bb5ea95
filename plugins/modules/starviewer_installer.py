# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_installer
short_description: Verify a Starviewer installer's SHA-256 on the controller and read its version
version_added: 0.1.0
description:
  - Hashes the installer file on the controller once, compares it with the expected SHA-256 and, for a DEB, reads
    the package name and version from its control file, so the roles can tell without touching a host whether it
    needs the installer at all.
  - Fails with the expected and the actual hash when they differ; nothing is copied or installed then.
  - Runs on the controller only; use it with C(run_once).
options:
  path:
    description: The installer on the controller (C(.deb) or C(.msi)).
    type: path
    required: true
  checksum:
    description: Expected SHA-256, 64 hexadecimal digits, either case, optionally prefixed C(sha256:).
    type: str
    required: true
  checksum_variable:
    description: Name of the variable the checksum came from, used in error messages.
    type: str
    default: checksum
  delete_on_mismatch:
    description: Delete the file when its hash does not match (for files this collection downloaded itself).
    type: bool
    default: false
  version:
    description:
      - Version to report instead of the one read from a DEB.
      - For an MSI the ProductVersion is read with C(msiinfo export <msi> Property) (Debian package C(msitools))
        when that tool is on the controller, and the MSI must carry Starviewer's UpgradeCode; this option must then be
        empty or equal to it. Without C(msiinfo) the option is required for an MSI (numbers only, for example
        C(2.0.0)).
    type: str
  verified:
    description:
      - The C(installer) this module returned earlier in the same run. When its SHA-256 is the expected one and its
        path is O(path), it is returned as is and the file is not read again (site.yml verifies the installer in its
        first play, the install role would otherwise read it a second time). The copy to a workstation still checks
        the bytes it sends against the SHA-1 of that first read.
    type: dict
    default: {}
    version_added: 0.2.0
extends_documentation_fragment:
  - medimaging.starviewer.attributes
  - medimaging.starviewer.attributes.controller
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Verify the installer once per run
  medimaging.starviewer.starviewer_installer:
    path: /srv/installers/starviewer~2.0.0-CE~amd64-ubuntu.deb
    checksum: "{{ starviewer_installer_sha256 }}"
  run_once: true
  register: __installer
"""

RETURN = r"""
reused:
  description: True when O(verified) was returned without reading the file again.
  returned: when O(verified) matched
  type: bool
  version_added: 0.2.0
installer:
  description: What the installer is.
  returned: success
  type: dict
  contains:
    sha256:
      description: SHA-256 of the file (lower case).
      type: str
    sha1:
      description: SHA-1 of the file, which the copy module uses to check the transfer.
      type: str
    size:
      description: Size in bytes.
      type: int
    format:
      description: C(deb) or C(msi).
      type: str
    package:
      description: Package name from the DEB control file.
      type: str
    version:
      description: Package version.
      type: str
    filename:
      description: File name.
      type: str
    product_code:
      description: ProductCode of an MSI read with C(msiinfo) (empty otherwise).
      type: str
    upgrade_code:
      description: UpgradeCode of an MSI read with C(msiinfo) (empty otherwise).
      type: str
expected:
  description: Expected SHA-256, when it did not match.
  returned: failure
  type: str
actual:
  description: Actual SHA-256, when it did not match.
  returned: failure
  type: str
"""
