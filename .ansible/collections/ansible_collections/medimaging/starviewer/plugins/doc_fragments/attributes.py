from __future__ import annotations


class ModuleDocFragment:
    """Shared attribute documentation for the collection's modules."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  platform:
    description: Target operating systems that can be operated against.
    support: N/A
"""

    FACTS = r"""
options: {}
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
"""

    # For action plugins that run entirely on the controller and contact no host.
    CONTROLLER = r"""
options: {}
attributes:
  action:
    description:
      - Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  bypass_host_loop:
    description: Forces a 'global' task that does not execute per host.
    support: none
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    description: Target OS/families that can be operated against.
    platforms: all
"""
