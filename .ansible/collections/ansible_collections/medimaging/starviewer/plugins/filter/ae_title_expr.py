# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: ae_title_expr.yml beside this file.
"""The ae_title_expr filter: expand a Starviewer %VARIABLE%[n:c] expression as Starviewer 2.0 would."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.module_utils import starviewer


def ae_title_expr(expr: object, *, hostname: object = None, ip: object = None, homepath: object = None) -> str:
    """Expand ``expr`` for a host with these properties; missing values are an error only when used."""
    if not isinstance(expr, str):
        raise AnsibleFilterError(f"ae_title_expr: got {expr!r} of type {type(expr).__name__}; allowed: a string")
    # Refuse to guess a value the expression needs rather than silently expanding it to an empty string.
    used = set(starviewer.expression_variables(expr))
    for name, value in (("HOSTNAME", hostname), ("HOMEPATH", homepath)):
        if name in used and value is None:
            raise AnsibleFilterError(f"ae_title_expr: {name.lower()}: got None; allowed: a string (the expression "
                                     f"uses %{name}%)")
    try:
        return starviewer.ae_title_expr(expr, "" if hostname is None else hostname, ip,
                                        "" if homepath is None else homepath)
    except ValueError as exc:
        raise AnsibleFilterError(f"ae_title_expr: {exc}") from None


class FilterModule:
    """medimaging.starviewer.ae_title_expr."""

    def filters(self) -> dict:
        return {"ae_title_expr": ae_title_expr}
