#!/usr/bin/env bash
# Installs the Debian packages trowel's tests, benchmarks and demo need.
# Idempotent: packages already installed are skipped, apt-get update runs only
# when something is missing. Must run as root (CI and the lab run as root).
set -euo pipefail

packages=(
  # network lab: namespaces, bridges, veth/tap, packet loss via nftables
  iproute2 nftables iputils-ping procps psmisc
  # real DHCP clients and a peer DHCP/TFTP server (dnsmasq-base: no service)
  isc-dhcp-client dnsmasq-base
  # real TFTP clients and a peer TFTP server
  tftp-hpa atftp curl tftpd-hpa
  # PXE firmware and boot loaders served over TFTP, and the VMs that load them
  ipxe pxelinux syslinux-common qemu-system-x86 qemu-utils ovmf
  # GRUB's UEFI network image (grubnetx64.efi): UEFI machines set to local
  # chainload their disk through it; mtools builds test ESPs without mounting
  grub-efi-amd64-bin mtools
  # a real kernel for the e2e boot image; busybox-static gives udhcpc and the
  # initramfs shell (it conflicts with the dynamic busybox package)
  linux-image-amd64 busybox-static cpio zstd
  # the template pool: btrfs, LXC containers on the btrfs backing store,
  # debootstrap for the demo template, rsync for copying plain directories
  btrfs-progs dosfstools lxc debootstrap rsync
  # the provisioning client partitions disks with sfdisk (Debian package fdisk)
  fdisk
  # getfattr/setfattr: tests compare trees including extended attributes
  attr
  # the PXE image (appliance/pxe): kmod's depmod and modprobe index and
  # resolve its modules, xz compresses it
  kmod xz-utils
  # terminal tests and screenshots
  tmux
  # peers of the multicast benchmark (bench/mcast.ts): udp-sender/udp-receiver, uftp/uftpd
  udpcast uftp
  # peer of the template-serving benchmark (bench/templates.ts): nginx with sendfile
  nginx-light
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps package installs from starting daemons (tftpd-hpa) that
# would hold port 69 on the host; tests start their own peers in namespaces.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
