#!/usr/bin/env bash
# The native addon under sanitizers (docs/reliability.md, "Addon under sanitizers"):
#   1. valgrind memcheck over scripts/sanitize/driver.mjs with the shipped build/Release addon;
#   2. an ASan+UBSan build of native/ into build-asan/ (build/Release is never touched), loaded
#      into an uninstrumented Node with libasan preloaded, running the same driver;
#   3. canaries: a planted leak, heap overflow and signed overflow, run the same way, which each
#      tool must report, so "0 errors" is known to mean the tool was looking.
# Prints one line per step and ends with one JSON line of figures (also build-asan/report.json).
#
#   scripts/sanitize-native.sh [--short] [--only asan|valgrind]
#     --short   the npm test form (seconds to a minute): fewer cycles, fewer workers
# Exit: 0 clean, 1 a sanitizer or valgrind found something (or a canary went unseen),
#       2 environment wrong (no compiler, no libasan, no valgrind, addon not built).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

short=0
only=all
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=1 ;;
    --only) shift; only=${1:-} ;;
    *) echo "sanitize-native: unknown argument '$1' (use --short, --only asan|valgrind)" >&2; exit 1 ;;
  esac
  shift
done
case "$only" in all|asan|valgrind) ;; *) echo "sanitize-native: --only takes asan or valgrind, not '$only'" >&2; exit 1 ;; esac

if [ "$short" = 1 ]; then
  asan_cycles=60; asan_workers=4; vg_cycles=3; vg_workers=0  # Worker teardown under memcheck: full form only (~12 s each)
else
  asan_cycles=2000; asan_workers=8; vg_cycles=100; vg_workers=4
fi
fixture=$root/test/fixtures/sysfs/sd8elite-dev
driver=$root/scripts/sanitize/driver.mjs
out=$root/build-asan
logs=$out/logs
env_fail() { echo "sanitize-native: $*" >&2; exit 2; }

command -v g++ >/dev/null || env_fail "no g++ on PATH (the ASan build needs it)"
command -v gcc >/dev/null || env_fail "no gcc on PATH (it locates libasan)"
libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || env_fail "libasan not found (gcc -print-file-name=libasan.so gave '$libasan'; Debian: libgcc-12-dev)"
if [ "$only" != asan ]; then
  command -v valgrind >/dev/null || env_fail "no valgrind on PATH (Debian: apt-get install valgrind)"
  [ -f build/Release/edgegov_native.node ] || env_fail "build/Release/edgegov_native.node missing: run npm ci (with a C++ compiler) first"
fi

mkdir -p "$out"
rm -rf "$logs"
mkdir -p "$logs"
sanflags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g"

# Node is not instrumented, so libasan must be first in the process: LD_PRELOAD. Leak detection
# stays ON with no suppressions: Node 20 frees or keeps reachable everything it allocates by
# exit, so LeakSanitizer reports nothing for Node itself in this driver (measured; any report
# it does make is counted, and split into those with an addon frame and the rest).
# ASan writes to log_path; UBSan (its runtime loaded with the addon) ignores log_path here and
# writes to stderr, so each run's stderr is kept beside the logs as <prefix>.stderr.
asan_env() {
  env LD_PRELOAD="$libasan" \
    ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:exitcode=23:malloc_context_size=40:check_initialization_order=1:strict_init_order=1:log_path=$logs/$1" \
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/$1" \
    "${@:2}"
}
# --errors-for-leak-kinds=definite: a definite leak counts as an error (and in the exit code);
# node.supp holds only Node's own false positives, each with its reason.
vg=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
  --error-exitcode=99 --num-callers=40 --suppressions="$root/scripts/sanitize/node.supp")
canary='try { process.dlopen({ exports: {} }, process.argv[1]); } catch {}'
rc_asan=0; rc_vg=0

# 1. Valgrind first, in the background: memcheck runs every thread on one core, so the ASan
# build and runs below use the other core meanwhile (the short form's wall time is valgrind's).
vg_pid=
if [ "$only" != asan ]; then
  vg_t0=$(date +%s)
  "${vg[@]}" --log-file="$logs/vg-driver.%p" node --expose-gc "$driver" "$root/build/Release/edgegov_native.node" "$fixture" "$vg_cycles" "$vg_workers" \
    >"$logs/driver-valgrind.json" 2>"$logs/driver-valgrind.stderr" &
  vg_pid=$!
  trap '[ -n "$vg_pid" ] && kill "$vg_pid" 2>/dev/null' EXIT
fi

# 2. The ASan+UBSan build: a staging directory whose binding.gyp and native/ are the real ones,
# so node-gyp's fixed build/ subdirectory lands in build-asan/build. gyp writes a .target.mk
# beside every .gyp file it reads, node-addon-api's included; with node_modules linked in, those
# landed in the checkout's node_modules/, which the next `npm ci` deletes while build-asan/'s
# Makefile still includes them. So node-addon-api is copied in (cp -a keeps its mtimes, so make
# sees unchanged headers as unchanged) and everything gyp generates stays inside build-asan/.
# Configured again from scratch whenever the cached configuration no longer matches the tree
# (config_stale); otherwise make rebuilds only what changed.
config_stale() {
  local mk=$out/build/Makefile inc
  [ -f "$mk" ] || { echo "no configuration yet"; return 0; }
  # Every makefile the configuration includes must still exist (paths relative to build/).
  while read -r inc; do
    [ -f "$out/build/$inc" ] || { echo "$inc, which the configuration includes, is gone"; return 0; }
  done < <(sed -n 's/^[[:space:]]*include[[:space:]]\{1,\}\(.*\.mk\)[[:space:]]*$/\1/p' "$mk")
  # Inputs newer than the configuration: the addon's sources and gyp file, the installed
  # node_modules (npm ci recreates the directory; its files keep npm's fixed 1985 mtime, so the
  # directories are what move) and the staged copy of node-addon-api.
  inc=$(find "$root/binding.gyp" "$root/native" "$root/node_modules" -maxdepth 0 -newer "$mk" -print -quit)
  [ -z "$inc" ] && inc=$(find "$root/native" "$root/node_modules/node-addon-api" "$out/node_modules/node-addon-api" -newer "$mk" -print -quit)
  [ -n "$inc" ] && { echo "${inc#"$root"/} is newer than the configuration"; return 0; }
  return 1
}
if [ "$only" != valgrind ]; then
  for f in binding.gyp native; do ln -sfn "../$f" "$out/$f"; done
  # (an older build-asan/ linked the whole node_modules)
  [ -L "$out/node_modules" ] && rm -f "$out/node_modules"
  addon_api=$root/node_modules/node-addon-api
  [ -f "$addon_api/package.json" ] || env_fail "node_modules/node-addon-api missing: run npm ci first"
  if ! cmp -s "$addon_api/package.json" "$out/node_modules/node-addon-api/package.json"; then
    rm -rf "$out/node_modules" && mkdir -p "$out/node_modules" &&
      cp -a "$addon_api" "$out/node_modules/node-addon-api" &&
      rm -f "$out"/node_modules/node-addon-api/*.mk "$out"/node_modules/node-addon-api/*.Makefile ||
      env_fail "cannot stage node-addon-api into $out/node_modules"
  fi
  gyp=(node "$root/node_modules/node-gyp/bin/node-gyp.js")
  nodedir=$(dirname "$(dirname "$(command -v node)")")
  nd=()
  [ -f "$nodedir/include/node/node_api.h" ] && nd=(--nodedir="$nodedir")
  t0=$(date +%s)
  if why=$(config_stale); then
    echo "== asan+ubsan configure: $why"
    rm -rf "$out/build"
  fi
  (
    cd "$out" &&
      export CFLAGS="$sanflags" CXXFLAGS="$sanflags" LDFLAGS="-fsanitize=address,undefined" &&
      { [ -f build/Makefile ] || "${gyp[@]}" configure "${nd[@]}"; } &&
      "${gyp[@]}" build
  ) >"$logs/build.log" 2>&1 || { tail -20 "$logs/build.log" >&2; env_fail "the ASan+UBSan build failed (log: $logs/build.log)"; }
  asan_addon=$out/build/Release/edgegov_native.node
  # (into a variable: grep -q on the pipe would SIGPIPE ldd, which pipefail counts as failure)
  linked=$(ldd "$asan_addon" 2>&1)
  [[ "$linked" == *libasan* ]] || { echo "sanitize-native: $asan_addon is not linked with libasan" >&2; exit 1; }
  echo "== asan+ubsan build ($(($(date +%s) - t0)) s): $asan_addon"
  gcc $sanflags -shared -fPIC -o "$out/canary-asan.so" scripts/sanitize/canary.c || env_fail "cannot build the ASan canary"

  t0=$(date +%s)
  asan_env san-driver node --expose-gc "$driver" "$asan_addon" "$fixture" "$asan_cycles" "$asan_workers" \
    >"$logs/driver-asan.json" 2>"$logs/san-driver.stderr"
  rc_asan=$?
  echo "== asan+ubsan driver: $asan_cycles cycles, $asan_workers workers, exit $rc_asan ($(($(date +%s) - t0)) s)"
  # One planted defect per run: the first ASan or UBSan report halts the process.
  for c in leak overflow ub; do
    EDGEGOV_CANARY=$c asan_env "san-canary-$c" node -e "$canary" "$out/canary-asan.so" >/dev/null 2>"$logs/san-canary-$c.stderr"
  done
fi

# 3. The valgrind canary (a leak and an overflow in one run: memcheck reports and goes on).
if [ "$only" != asan ]; then
  gcc -g -O0 -shared -fPIC -o "$out/canary-plain.so" scripts/sanitize/canary.c || env_fail "cannot build the valgrind canary"
  EDGEGOV_CANARY=leak,overflow "${vg[@]}" --log-file="$logs/vg-canary.%p" node -e "$canary" "$out/canary-plain.so" >/dev/null 2>&1
  wait "$vg_pid"
  rc_vg=$?
  vg_pid=
  echo "== valgrind memcheck driver: $vg_cycles cycles, $vg_workers workers, exit $rc_vg ($(($(date +%s) - vg_t0)) s)"
fi

node "$root/scripts/sanitize/summarize.mjs" "$logs" "$only" "$short" "$rc_asan" "$rc_vg" >"$out/report.json"
summary_rc=$?
cat "$out/report.json"
exit "$summary_rc"
