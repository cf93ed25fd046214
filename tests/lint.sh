#!/bin/sh
# lint.sh: luacheck over every Lua file, as TAP (one line per file).
cd "$(dirname "$0")/.." || exit 1
if ! command -v luacheck >/dev/null 2>&1; then
  echo "not ok 1 - luacheck is missing (apt-get install lua-check)"
  exit 1
fi
n=0
for f in $(find lua bin tests bench tools -type f \( -name '*.lua' -o -path 'bin/swrauth' -o -path 'bin/docker-credential-swr' \) 2>/dev/null | sort); do
  n=$((n + 1))
  if out=$(luacheck -q "$f" 2>&1); then
    echo "ok $n - luacheck $f"
  else
    echo "not ok $n - luacheck $f"
    echo "$out" | sed 's/^/# /'
  fi
done
echo "1..$n"
