#!/usr/bin/env bash
# Run ansible-test (sanity, units, ...) on this collection from a scratch copy.
#
#   tools/ansible_test.sh sanity [ansible-test options]
#   tools/ansible_test.sh units [ansible-test options]
#
# ansible-test insists that its working directory is .../ansible_collections/<namespace>/<name> for real (the
# symlink under .cache/collections resolves back to this checkout, which it rejects), so the files git knows about
# (tracked plus untracked-but-not-ignored, so new work is checked before it is committed) are copied to a scratch
# tree under $SVLAB and ansible-test runs there with the Python on PATH (--local).
#
# ansible-test keeps its per-test virtual environments and its pip bootstrap script under ~/.ansible/test; HOME is
# pointed at $SVLAB/ansible-test/home so they are cached with the other heavy artefacts and survive a fresh clone.
# The bootstrap script normally comes from ci-files.testing.ansible.com, which these machines cannot reach: a
# stand-in that bootstraps pip from the interpreter's own ensurepip and then installs the requested pip from PyPI
# is written in its place.
set -euo pipefail

cmd=${1:?usage: tools/ansible_test.sh sanity|units [ansible-test options]}
shift
src=$(cd "$(dirname "$0")/.." && pwd)
SVLAB=${SVLAB:-/var/tmp/svlab}
namespace=$(sed -n 's/^namespace: *//p' "$src/galaxy.yml")
name=$(sed -n 's/^name: *//p' "$src/galaxy.yml")
# One scratch tree per checkout, so CI's fresh clone and a developer's tree do not overwrite each other's copy.
key=$(printf '%s' "$src" | sha256sum | cut -c1-8)
dest=$SVLAB/ansible-test/$key/ansible_collections/$namespace/$name
# The machine's other Pythons come from pyenv, whose python3.N shims fail unless that version is selected, and
# ansible-test passes no PYENV_* variable to its children: link each installed 3.x interpreter into a directory on
# PATH so ansible-test runs every test on all the Python versions it supports, as it would in its own containers.
pythons=$SVLAB/ansible-test/pythons
mkdir -p "$pythons"
if command -v pyenv >/dev/null; then
  for dir in "$(pyenv root)"/versions/3.*; do
    for exe in "$dir"/bin/python3.[0-9]*; do
      case $exe in *-config) continue ;; esac
      [ ! -x "$exe" ] || ln -sfn "$exe" "$pythons/${exe##*/}"
    done
  done
fi
# The venv's own python3.N stays first.
PATH=$(dirname "$(command -v ansible-test)"):$pythons:$PATH

export HOME=$SVLAB/ansible-test/home

ansible_test=$(command -v ansible-test)
pip_version=$(sed -n "s/^ *pip='\([0-9.]*\)',\$/\1/p" \
  "$(dirname "$(readlink -f "$ansible_test")")/../lib/python3"*/site-packages/ansible_test/_internal/python_requirements.py)
[ -n "$pip_version" ] || { echo "cannot tell which pip version ansible-test bootstraps" >&2; exit 1; }
shim=$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$shim")"
cat >"$shim.new" <<'EOF'
"""Offline replacement for get-pip.py: ansible-test runs it as __main__ with pip options and packages."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
# ensurepip leaves PIP_CONFIG_FILE=/dev/null behind, which would hide /etc/pip.conf (the gateway's CA bundle).
os.environ.pop("PIP_CONFIG_FILE", None)
options = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + options)
EOF
mv "$shim.new" "$shim"

# Fresh copy each run (the tree is small); tests/output is kept for ansible-test's own caches.
mkdir -p "$dest"
find "$dest" -mindepth 1 -maxdepth 1 ! -name tests -exec rm -rf {} +
[ ! -d "$dest/tests" ] || find "$dest/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
# bench/ is developer tooling outside the collection artefact (galaxy.yml build_ignore); ruff checks it instead.
(cd "$src" && git ls-files -z --cached --others --exclude-standard -- . ':!bench' \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf -) | tar -xf - -C "$dest"

cd "$dest"
# Sanity tests build their own virtual environments, so the controller's venv (--local) is enough for them. Unit
# tests import the code under test in every supported Python, each of which needs pytest and PyQt5 (--venv).
case $cmd in
  units) mode=--venv ;;
  *) mode=--local ;;
esac
# validate-modules reads a PowerShell module's argument spec with pwsh, which these machines cannot install (pslint
# skips itself without it). For the full sanity run, the .ps1 modules are then left out of that one test only: every
# other test still checks them, and their .py documentation is still validated. molecule/windows runs them for real.
if [ "$cmd" = sanity ] && [ $# -eq 0 ] && ! command -v pwsh >/dev/null; then
  excludes=()
  while IFS= read -r -d '' ps1; do excludes+=(--exclude "$ps1"); done \
    < <(find plugins/modules -name '*.ps1' -print0 2>/dev/null | sort -z)
  if [ ${#excludes[@]} -gt 0 ]; then
    echo "pwsh not found: validate-modules leaves out $((${#excludes[@]} / 2)) PowerShell module(s)" >&2
    # Run both halves even when the first fails, so one report shows every finding.
    rc=0
    ansible-test sanity "$mode" --color no --skip-test validate-modules || rc=$?
    ansible-test sanity "$mode" --color no --test validate-modules "${excludes[@]}" || rc=$?
    exit "$rc"
  fi
fi
exec ansible-test "$cmd" "$mode" --color no "$@"
