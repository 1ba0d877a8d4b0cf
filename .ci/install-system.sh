#!/usr/bin/env bash
# Installs the system packages the tests need on a clean Debian 12 machine:
#  - Mesa lavapipe (software Vulkan) from bookworm-backports, for Dawn in Node;
#  - Debian's Chromium, for the browser kernel tests and the app e2e test;
#  - real medical volumes shipped by Debian (mricron-data, insighttoolkit5-examples).
# The backports source is derived from the machine's own first apt stanza, so no
# registry host is written here.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
src=/etc/apt/sources.list.d/debian.sources
bp=/etc/apt/sources.list.d/backports.sources
if [ -f "$src" ] && [ ! -f "$bp" ]; then
  awk 'BEGIN{RS="";ORS="\n\n"} NR==1' "$src" \
    | sed -e 's/^Suites:.*/Suites: bookworm-backports/' -e '/^#/d' | $SUDO tee "$bp" >/dev/null
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
$SUDO apt-get install -y -qq chromium mricron-data insighttoolkit5-examples >/dev/null
echo "system packages installed"
