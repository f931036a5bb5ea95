#!/usr/bin/env bash
# Run site.yml with the example hospital inventory against the three demo lab hosts, then print per host what
# Starviewer itself would read (through the stand-in's Qt 5 QSettings).
set -euo pipefail
cd "$(dirname "$0")/../.."
SVLAB=${SVLAB:-/var/tmp/svlab}
version=${STANDIN_VERSION:-2.0.0-CE}
deb="$SVLAB/dist/starviewer~${version}~amd64-ubuntu.deb"
sha=$(sha256sum "$deb" | cut -d' ' -f1)
conn=.cache/demo-lab.yml
mkdir -p .cache
cat > "$conn" <<YAML
all:
  hosts:
    ws-rad-01: {ansible_host: 127.0.50.1}
    ws-rad-02: {ansible_host: 127.0.50.2}
    ws-emerg-01: {ansible_host: 127.0.50.3}
YAML
echo "== site.yml (installer $(basename "$deb"), sha256 $sha)"
ansible-playbook -i examples/hospital/inventory.yml -i "$conn" playbooks/site.yml \
  -e "starviewer_installer_src=$deb" -e "starviewer_installer_sha256=$sha"
echo "== what Starviewer reads on each workstation (as an ordinary user)"
ansible-playbook -i examples/hospital/inventory.yml -i "$conn" tests/lab/demo-report.yml
