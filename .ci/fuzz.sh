#!/usr/bin/env bash
# Coverage-guided fuzzing of every input path with cargo-fuzz (libFuzzer): the X12 tokenizer
# and decoders, the cXML decoder, the CSV decoder and the MIME path. Not part of `.ci/run`,
# whose bounded fuzzing is the proptest suite (`tests/tests/prop.rs`); this is the long run.
#
#   bash .ci/fuzz.sh                 # every target, 300 s each
#   bash .ci/fuzz.sh 3600 x12 mime   # chosen targets, an hour each
#
# Needs the nightly toolchain (rustup) and installs cargo-fuzz from crates.io when missing.
# Seeds: the golden samples and, when present, ../shared/corpus. New inputs go to
# tests/fuzz/corpus/<target>/, crashes to tests/fuzz/artifacts/<target>/ (both ignored by git).
# Exits non-zero when a target crashed, with the reproducer's path in the output.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(x12 cxml csv mime related)

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: the nightly toolchain is missing; install it with: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (once)"
  cargo install --locked cargo-fuzz
fi

corpus="${GATEWAY_CORPUS:-../shared/corpus}"
seeds() {
  case "$1" in
    x12) echo samples/x12; for d in x12-810 x12-850 x12-855 x12-856 x12-997 malformed; do echo "$corpus/$d"; done ;;
    cxml) echo samples/cxml; for d in cxml-invoice cxml-order cxml-other; do echo "$corpus/$d"; done ;;
    csv) echo samples/csv; echo "$corpus/csv" ;;
    mime) echo samples/email ;;
  esac
}

failed=()
unbuilt=()
for t in "${targets[@]}"; do
  mkdir -p "tests/fuzz/corpus/$t"
  dirs=()
  while read -r d; do [ -d "$d" ] && dirs+=("$d"); done < <(seeds "$t")
  # Build first, so a compile error is reported as one and not as a crash.
  if ! cargo +nightly fuzz build --fuzz-dir tests/fuzz -O "$t"; then
    unbuilt+=("$t")
    continue
  fi
  echo "== fuzz $t for ${seconds}s (seeds: ${dirs[*]})"
  if ! cargo +nightly fuzz run --fuzz-dir tests/fuzz -O "$t" "tests/fuzz/corpus/$t" "${dirs[@]}" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1; then
    failed+=("$t")
  fi
done
if [ ${#unbuilt[@]} -gt 0 ]; then
  echo "fuzz: did not build: ${unbuilt[*]} (the compiler's errors are above; fix them and run again)" >&2
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (reproducers under tests/fuzz/artifacts/)" >&2
fi
if [ ${#unbuilt[@]} -gt 0 ] || [ ${#failed[@]} -gt 0 ]; then
  exit 1
fi
echo "fuzz: no crash in ${targets[*]} (${seconds}s each)"
