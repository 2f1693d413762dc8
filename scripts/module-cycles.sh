#!/usr/bin/env bash
# Prints which top-level module of src/ refers to which (`crate::X` anywhere in its files) and
# fails if any two reach each other (tsort finds the loop). Usage: scripts/module-cycles.sh
set -euo pipefail
cd "$(dirname "$0")/../src"
edges=$(
  for path in *.rs */; do
    from=${path%.rs}; from=${from%/}
    [ "$from" = main ] || [ "$from" = lib ] && continue
    files=$(ls -d "$from.rs" "$from" 2>/dev/null || true)
    { grep -rhoE 'crate::[a-z_]+' $files || true; } | sort -u | sed 's/crate:://' |
      while read -r to; do if [ "$to" != "$from" ]; then echo "$to $from"; fi; done
  done | sort -u
)
echo "$edges" | awk '{ deps[$2] = deps[$2] " " $1 } END { for (m in deps) print m " ->" deps[m] }' | sort
if ! echo "$edges" | tsort >/dev/null 2>/tmp/tsort.err; then
  cat /tmp/tsort.err >&2
  echo "import cycle between modules (see the loop above)" >&2
  exit 1
fi
echo "no module imports from a module that imports it back"
