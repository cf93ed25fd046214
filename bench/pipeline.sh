#!/bin/sh
# pipeline.sh: section 4 of bench/run.sh. `swrauth release` of one image
# under 1 and under 5 tags with skopeo, against bench/release_script.sh
# (the same skopeo commands in a shell script), to a real Docker
# Distribution registry on loopback (HTTP, htpasswd), paired rounds.
# Prints Markdown on stdout. Needs, from run.sh: ROOT, BENCH_OUT, PAIRTIME,
# SWRAUTH_INST (the installed swrauth), LUA_PATH_5_4, LUA_CPATH_5_4.
# BENCH_PIPELINE_ROUNDS (default 16) sets the number of rounds.
set -u
: "${ROOT:?}" "${BENCH_OUT:?}" "${PAIRTIME:?}" "${SWRAUTH_INST:?}"
E2E_DEMO=1
E2E_WATCH=0
E2E_PROJECT=cn-north-4
E2E_AK=BENCHAK0000000000001
E2E_SK=benchSecretKeyForSwrauthBench00000000000
E2E_REPO=bench/app
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
need skopeo skopeo
e2e_init
need_done
containers_storage
registry_start http >&2 || { echo "pipeline.sh: docker-registry did not start" >&2; exit 1; }
mkdir -p "$T/image"
oci_layout "$T/image" 1.0 "swrauth benchmark image" || exit 1

rounds=${BENCH_PIPELINE_ROUNDS:-16}
export HUAWEICLOUD_SDK_AK="$E2E_AK" HUAWEICLOUD_SDK_SK="$E2E_SK"
export REG="$REG_HOST" REPO="$E2E_REPO" SWR_USER="$E2E_USER" SWR_KEY="$E2E_KEY"
src="oci:$T/image:1.0"
sw() { echo "$SWRAUTH_INST" --project "$E2E_PROJECT" --registry "$REG_HOST" --insecure \
  --engine skopeo release "$src" --repository "$E2E_REPO"; }
# shellcheck disable=SC2046
set -- $(sw) --tag t1
swr1="$*"
# shellcheck disable=SC2046
set -- $(sw) --tag t1 --tag t2 --tag t3 --tag t4 --tag t5
swr5="$*"

# Both must work and push the same manifest before anything is timed.
# shellcheck disable=SC2086
"$SWRAUTH_INST" --project "$E2E_PROJECT" --registry "$REG_HOST" --insecure --engine skopeo \
  release "$src" --repository "$E2E_REPO" --tag t1 --tag t2 >"$T/out/swr.out" 2>"$T/out/swr.err" ||
  { echo "pipeline.sh: swrauth release failed:" >&2; e2e_mask <"$T/out/swr.err" >&2; exit 1; }
sh "$ROOT/bench/release_script.sh" "$src" t1 t2 >"$T/out/script.out" 2>"$T/out/script.err" ||
  { echo "pipeline.sh: the script failed:" >&2; e2e_mask <"$T/out/script.err" >&2; exit 1; }
sh "$ROOT/bench/release_script_api.sh" "$src" t1 t3 >"$T/out/api.out" 2>"$T/out/api.err" ||
  { echo "pipeline.sh: the API script failed:" >&2; e2e_mask <"$T/out/api.err" >&2; exit 1; }
sh "$ROOT/bench/release_script_par.sh" "$src" t4 >"$T/out/par.out" 2>"$T/out/par.err" ||
  { echo "pipeline.sh: the parallel script failed:" >&2; e2e_mask <"$T/out/par.err" >&2; exit 1; }
grep -qF "$OCI_DIGEST" "$T/out/par.out" ||
  { echo "pipeline.sh: the parallel script did not push the image" >&2; exit 1; }
grep -q '(registry API)' "$T/out/swr.err" ||
  { echo "pipeline.sh: swrauth did not tag through the registry API" >&2; exit 1; }
for tag in t1 t2 t3; do
  d=$(reg_digest "$E2E_REPO" "$tag")
  if [ "$d" != "$OCI_DIGEST" ] || ! grep -qF "$d" "$T/out/swr.out" ||
    ! grep -qF "$d" "$T/out/script.out" || ! grep -qF "$d" "$T/out/api.out"; then
    echo "pipeline.sh: $tag: the registry serves '$d', not the image's $OCI_DIGEST" >&2
    exit 1
  fi
done

# Peak memory of the swrauth process itself (VmHWM at exit, read by a
# LUA_INIT hook in an untimed run; ru_maxrss would also count skopeo).
peak() {
  SWRAUTH_BENCH_HWM="$T/hwm" LUA_INIT_5_4="@$ROOT/bench/hwm.lua" "$@" >/dev/null 2>&1
  cat "$T/hwm" 2>/dev/null || echo "?"
}
# shellcheck disable=SC2086
hwm1=$(peak $swr1)
# shellcheck disable=SC2086
hwm5=$(peak $swr5)

# shellcheck disable=SC2086
"$PAIRTIME" -n "$rounds" -w 1 \
  -- swr1 $swr1 \
  -- script1 sh "$ROOT/bench/release_script.sh" "$src" t1 \
  -- par1 sh "$ROOT/bench/release_script_par.sh" "$src" t1 \
  -- swr5 $swr5 \
  -- script5 sh "$ROOT/bench/release_script.sh" "$src" t1 t2 t3 t4 t5 \
  -- api5 sh "$ROOT/bench/release_script_api.sh" "$src" t1 t2 t3 t4 t5 \
  >"$BENCH_OUT/pipeline.raw" || exit 1

echo "Registry: Docker Distribution $(docker-registry --version 2>/dev/null | awk '{print $NF}') on"
echo "$REG_URL (htpasswd); engine: skopeo $(skopeo --version | awk '{print $NF}'); image: one"
echo "layer, OCI layout. Peak RSS column: ru_maxrss, the largest of the command and its"
echo "children (skopeo). Peak memory of the swrauth process itself (VmHWM at exit):"
echo "$hwm1 kB with 1 tag, $hwm5 kB with 5 tags."
echo ""
lua5.4 "$ROOT/bench/stats.lua" "$BENCH_OUT/pipeline.raw" \
  'swr1=`swrauth release`, 1 tag' 'script1=shell script, 1 tag' \
  'par1=shell script, 1 tag, login and copy at once' \
  'swr5=`swrauth release`, 5 tags' 'script5=shell script, 5 tags (skopeo copy per tag)' \
  'api5=shell script, 5 tags (curl: manifest GET, PUTs)' \
  'swr1/script1<=1.05' 'swr5/api5<=1.05' 'swr5/swr1<=1.5' 'swr1/par1' 'swr5/script5' \
  'script5/script1' \
  'api5/script1'
