#!/usr/bin/env bash
# Test lab for medimaging.starviewer: Debian 12 (Ubuntu-family stand-in) workstations, each in its own
# mount/uts/pid namespaces with an overlay root and sshd on 127.0.<octet>.<n>:22.
#
#   lab.sh base                      build (or reuse) the base root filesystem
#   lab.sh up NAME COUNT OCTET [HOSTNAME...]
#                                    start COUNT hosts on 127.0.OCTET.1..COUNT, named NAME-h1.. or the HOSTNAMEs given.
#                                    Like stock Ubuntu, each host's name resolves to 127.0.1.1; with SVLAB_OWN_IP=1 it
#                                    resolves to the host's own lab address instead.
#   lab.sh down NAME                 stop them (SIGKILL of the namespace init) and drop their overlays
#   lab.sh exec HOSTNAME CMD...      run a command inside a host as root (nsenter, no SSH)
#
# The base is cached under $SVLAB (default /var/tmp/svlab) and rebuilt when this script's base recipe
# changes. Only Debian's own archive is used (the mirror apt on this machine is configured with).
set -euo pipefail

SVLAB=${SVLAB:-/var/tmp/svlab}
MIRROR=${SVLAB_MIRROR:-http://deb.debian.org/debian}
BASE_PACKAGES="openssh-server python3 python3-apt sudo iproute2 procps python3-pyqt5 desktop-file-utils xdg-utils"
# Bump when the recipe below changes; the stamp decides whether the cached base is reused.
BASE_RECIPE="v3 bookworm minbase + ${BASE_PACKAGES}"

log() { printf '[lab] %s\n' "$*" >&2; }

ensure_key() {
  mkdir -p "$SVLAB/ssh"
  [ -f "$SVLAB/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C svlab -f "$SVLAB/ssh/id_ed25519"
}

build_base() {
  ensure_key
  local stamp="$SVLAB/base.stamp" want
  want="$BASE_RECIPE $(sha256sum "$SVLAB/ssh/id_ed25519.pub" | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$SVLAB/base/usr/sbin/sshd" ]; then
    log "base reused ($SVLAB/base)"; return 0
  fi
  command -v debootstrap >/dev/null || { log "debootstrap missing: apt-get install debootstrap"; exit 1; }
  local tmp="$SVLAB/base.new"
  rm -rf "$tmp"; mkdir -p "$tmp"
  log "debootstrap bookworm into $tmp (about 30 s)"
  debootstrap --variant=minbase bookworm "$tmp" "$MIRROR" >"$SVLAB/debootstrap.log" 2>&1 \
    || { tail -n 20 "$SVLAB/debootstrap.log" >&2; exit 1; }
  printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"; chmod 755 "$tmp/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$tmp/etc/resolv.conf"
  mount -t proc proc "$tmp/proc"
  trap 'umount "$tmp/proc" 2>/dev/null || true' RETURN
  # shellcheck disable=SC2086
  chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $BASE_PACKAGES \
    >"$SVLAB/base-apt.log" 2>&1 || { tail -n 20 "$SVLAB/base-apt.log" >&2; exit 1; }
  chroot "$tmp" apt-get clean
  umount "$tmp/proc"
  rm -f "$tmp"/etc/ssh/ssh_host_*
  chroot "$tmp" useradd -m -s /bin/bash ansible
  echo 'ansible ALL=(ALL) NOPASSWD:ALL' > "$tmp/etc/sudoers.d/ansible"; chmod 440 "$tmp/etc/sudoers.d/ansible"
  for home in root home/ansible; do
    install -d -m 700 "$tmp/$home/.ssh"
    install -m 600 "$SVLAB/ssh/id_ed25519.pub" "$tmp/$home/.ssh/authorized_keys"
  done
  chroot "$tmp" chown -R ansible:ansible /home/ansible/.ssh
  rm -rf "$SVLAB/base"; mv "$tmp" "$SVLAB/base"
  echo "$want" > "$stamp"
  log "base ready ($(du -sh "$SVLAB/base" | cut -f1))"
}

host_up() {  # name ip dir
  local name=$1 ip=$2 d=$3 own=127.0.1.1
  [ "${SVLAB_OWN_IP:-0}" = 1 ] && own=$ip
  mkdir -p "$d/upper" "$d/work" "$d/root"
  unshare --mount --uts --ipc --pid --fork --kill-child --propagation private /bin/sh -c "
    set -e
    mount -t overlay overlay -o lowerdir=$SVLAB/base,upperdir=$d/upper,workdir=$d/work $d/root
    mount -t proc proc $d/root/proc
    mount -t tmpfs tmpfs $d/root/run
    mount -t tmpfs tmpfs $d/root/tmp
    chmod 1777 $d/root/tmp
    mkdir -p $d/root/run/sshd
    mount -t devpts -o newinstance,ptmxmode=0666 devpts $d/root/dev/pts
    hostname $name
    echo $name > $d/root/etc/hostname
    echo '$own $name' >> $d/root/etc/hosts
    [ -e $d/root/etc/ssh/ssh_host_ed25519_key ] || chroot $d/root ssh-keygen -A >/dev/null
    exec chroot $d/root /usr/sbin/sshd -D -e -o ListenAddress=$ip -o UseDNS=no -o MaxStartups=200:30:400
  " >"$d/sshd.log" 2>&1 &
  echo $! > "$d/pid"
}

cmd=${1:-}
case "$cmd" in
  base) build_base ;;
  up)
    name=$2; count=$3; octet=$4; shift 4
    names=("$@")
    build_base
    dir="$SVLAB/hosts/$name"; mkdir -p "$dir"
    for i in $(seq 1 "$count"); do
      d="$dir/h$i"
      if [ -f "$d/pid" ] && kill -0 "$(cat "$d/pid")" 2>/dev/null; then continue; fi
      rm -rf "$d"; mkdir -p "$d"
      host_up "${names[$((i - 1))]:-$name-h$i}" "127.0.$octet.$i" "$d"
      echo "${names[$((i - 1))]:-$name-h$i}" > "$d/name"
    done
    for i in $(seq 1 "$count"); do
      for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.$octet.$i/22") 2>/dev/null && break
        sleep 0.1
      done
      (exec 3<>"/dev/tcp/127.0.$octet.$i/22") 2>/dev/null || { log "$name-h$i did not come up"; cat "$dir/h$i/sshd.log" >&2; exit 1; }
    done
    log "$count hosts up on 127.0.$octet.1..$count: $(cat "$dir"/h*/name | tr '\n' ' ')"
    ;;
  down)
    name=$2; dir="$SVLAB/hosts/$name"
    [ -d "$dir" ] || exit 0
    for p in "$dir"/h*/pid; do
      [ -f "$p" ] || continue
      # unshare --fork ignores SIGTERM; SIGKILL of it takes the whole namespace (and its mounts) down.
      kill -KILL "$(cat "$p")" 2>/dev/null || true
    done
    sleep 0.3
    rm -rf "$dir"
    log "hosts $name stopped"
    ;;
  exec)
    host=$2; shift 2
    d=$(grep -lx "$host" "$SVLAB"/hosts/*/h*/name | head -n1 | xargs dirname)
    pid=$(cat "$d/pid")
    child=$(pgrep -P "$pid" | head -n1)
    root="$d/root"
    exec nsenter -t "$child" -m -u -p chroot "$root" "$@"
    ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
