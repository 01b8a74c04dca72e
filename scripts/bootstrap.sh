#!/usr/bin/env bash
# Installs what the project needs: Debian packages (when asked for), a virtualenv in .venv, the package.
# Usage: scripts/bootstrap.sh [--test]   (sourced by scripts/demo.sh and scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

# Debian packages: what the platform itself needs at run time (PDF reports: weasyprint's Pango and fonts),
# and what the test suite drives for real (see ../shared/STACK.md).
RUNTIME_PACKAGES=(libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
TEST_PACKAGES=(xmlsec1 softhsm2 postgresql chromium php-cli php-soap nodejs openssl)  # php, node: generated-client tests; openssl: independent checks

install_system_packages() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "Instalacja pakietów systemowych: ${missing[*]}"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "Brak uprawnień do instalacji pakietów: ${missing[*]} (uruchom jako root)." >&2; return 1
    fi
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pick_python() {
  # The distribution's interpreter first: Debian builds it optimised, and on this 2-CPU machine the feed
  # ran ~5 % faster on it than on a default pyenv build found earlier on PATH (bench/feed.py, 1M people:
  # 10,496 against ~10,000 people/s). Any other 3.11 or 3.12 will do.
  for candidate in /usr/bin/python3.11 python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null; then
      if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)' 2>/dev/null; then
        echo "$candidate"; return 0
      fi
    fi
  done
  echo "Potrzebny Python 3.11 lub 3.12 (Spyne nie działa na 3.13)." >&2
  return 1
}

if [[ $want_test -eq 1 ]]; then
  install_system_packages "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
else
  install_system_packages "${RUNTIME_PACKAGES[@]}" || echo "Uwaga: bez tych pakietów raporty PDF nie powstaną." >&2
fi

PYTHON=$(pick_python)
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [[ $want_test -eq 1 ]]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
# lxml and xmlsec must share one libxml2 (STACK.md): fail early and clearly if they do not.
.venv/bin/python -c "import lxml.etree, xmlsec" || {
  echo "lxml i xmlsec nie współpracują (różne wersje libxml2); sprawdź zakresy wersji w setup.cfg." >&2; exit 1; }
