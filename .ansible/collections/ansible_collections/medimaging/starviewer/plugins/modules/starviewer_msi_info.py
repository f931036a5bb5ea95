# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name.
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_msi_info
short_description: Find the MSI products installed for an UpgradeCode and decide what to install
version_added: 0.2.0
description:
  - Reads C(HKLM\SOFTWARE\Classes\Installer\UpgradeCodes\<packed code>), where Windows Installer lists the
    ProductCodes installed per machine for an UpgradeCode, then each product's C(Uninstall\{ProductCode}) and
    C(Installer\Products\<packed code>) keys for its name and version. Two calls of
    M(medimaging.starviewer.starviewer_registry_read) at most; changes nothing.
  - With O(version), also returns the plan the install role follows.
  - Per-user installs (an MSI run without C(ALLUSERS=1)) are registered in the installing user's hive and are not
    seen.
options:
  upgrade_code:
    description: The UpgradeCode. Defaults to Starviewer's.
    type: str
    default: "{86A85188-E570-467A-B5CB-2F7691311436}"
  version:
    description: ProductVersion of the MSI about to be installed (numbers only, for example C(2.0.0)).
    type: str
  allow_downgrade:
    description: Plan a downgrade (uninstall the newer products, then install) instead of keeping a newer version.
    type: bool
    default: false
attributes:
  action:
    support: full
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: windows
extends_documentation_fragment:
  - medimaging.starviewer.attributes
author:
  - medimaging.starviewer maintainers
"""

EXAMPLES = r"""
- name: Find the installed Starviewer and decide
  medimaging.starviewer.starviewer_msi_info:
    version: 2.0.1
  register: __msi
"""

RETURN = r"""
upgrade_code:
  description: The UpgradeCode looked up, upper case with braces.
  returned: success
  type: str
products:
  description: Installed products, newest first.
  returned: success
  type: list
  elements: dict
  contains:
    product_code:
      description: ProductCode, C({XXXXXXXX-...}).
      type: str
    name:
      description: DisplayName (or the Installer's ProductName).
      type: str
    version:
      description: DisplayVersion (or the Installer's Version); empty when Windows Installer has no record of it.
      type: str
    install_location:
      description: InstallLocation of the Uninstall entry (often empty for MSI installs).
      type: str
plan:
  description: C(install), C(none), C(upgrade), C(downgrade) or C(keep-newer).
  returned: when version is given
  type: str
installed:
  description: The newest installed product, or null.
  returned: when version is given
  type: dict
remove:
  description: ProductCodes to uninstall before a downgrade.
  returned: when version is given
  type: list
  elements: str
"""
