#!/usr/bin/env bash
# First step of the windows scenario: stop at once, saying what to set, when no Windows workstation is given.
set -u
missing=()
for name in STARVIEWER_WIN_HOST STARVIEWER_WIN_USER STARVIEWER_WIN_PASSWORD STARVIEWER_MSI STARVIEWER_MSI_SHA256; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  cat >&2 <<MSG
molecule scenario "windows" needs a real Windows workstation reachable over WinRM; not set: ${missing[*]}
  STARVIEWER_WIN_HOST       host name or address of a disposable Windows 10/11 VM with WinRM enabled
  STARVIEWER_WIN_USER       a local administrator account on it
  STARVIEWER_WIN_PASSWORD   its password
  STARVIEWER_MSI            the Starviewer .msi (controller path or http(s) URL)
  STARVIEWER_MSI_SHA256     the MSI's published SHA-256
optional: STARVIEWER_WIN_TRANSPORT (ntlm), STARVIEWER_WIN_PORT (5986), STARVIEWER_WIN_SCHEME (https),
          STARVIEWER_WIN_CERT_VALIDATION (validate, or ignore for a self-signed WinRM certificate)
Python needs pywinrm (pinned in requirements-dev.txt). Nothing was run.
MSG
  exit 1
fi
python -c 'import winrm' 2>/dev/null || {
  echo 'molecule scenario "windows": pywinrm is not installed in this Python (make deps installs it)' >&2
  exit 1
}
