# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_verify_summary
short_description: Build one table of the Starviewer verify checks of every host, on the controller
version_added: 0.2.0
description:
  - Reads, for every host of the play, the check results that the M(medimaging.starviewer.verify) role stored in
    the host variable named by O(results_var), and turns them into rows (host, PACS, check, result, latency,
    detail) and a fixed-width text table.
  - "Checks: C(ae-title) (effective AE title and its preflight problems), C(dicom-echo) (C-ECHO with the
    workstation's title, Linux), C(tcp-connect) (TCP reachability of a DICOM PACS, Windows), C(qido-rs) (DICOMweb
    C(studies) query), C(wado-uri-http) (web server of a WADO-URI+DIMSE PACS), C(local-port) and C(ris-port) (free
    or held by Starviewer), C(url-handler) (C(starviewer://) opens Starviewer), C(reachable) (the host itself)."
  - Run it once (C(run_once)). It contacts no host and never fails on a failed check; the caller decides.
options:
  hosts:
    description: Inventory names to report. Defaults to every host of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
  results_var:
    description: Host variable holding each host's registered check results.
    type: str
    default: __starviewer_verify_results
  preflight:
    description:
      - The registered result of M(medimaging.starviewer.starviewer_preflight), for the C(ae-title) rows and the
        hosts that could not be reached.
    type: dict
extends_documentation_fragment:
  - medimaging.starviewer.attributes
  - medimaging.starviewer.attributes.controller
seealso:
  - module: medimaging.starviewer.dicom_echo
  - module: medimaging.starviewer.port_owner
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Build the summary of every host's checks
  medimaging.starviewer.starviewer_verify_summary:
    preflight: "{{ preflight }}"
  run_once: true
  register: summary

- name: Print it once
  ansible.builtin.debug:
    msg: "{{ summary.table }}"
  run_once: true
"""

RETURN = r"""
rows:
  description: One dictionary per check with C(host), C(pacs), C(check), C(ok), C(latency_ms) or C(latency_s) and
    C(detail).
  returned: always
  type: list
  elements: dict
table:
  description: The rows as a fixed-width text table, one line per item (header first).
  returned: always
  type: list
  elements: str
failed_rows:
  description: The rows whose check failed.
  returned: always
  type: list
  elements: dict
failures:
  description: "One line per failed check, C(host check [PACS]: detail)."
  returned: always
  type: list
  elements: str
  sample: ["ws-rad-01 dicom-echo PACS1@10.0.0.5:11112: PACS1@10.0.0.5:11112 rejected the association: ..."]
msg:
  description: How many checks ran and failed.
  returned: always
  type: str
"""
