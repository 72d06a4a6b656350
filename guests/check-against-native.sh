#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs each compute workload natively (reference) and as a guest, and diffs
# the output. Usage: guests/check-against-native.sh [BUILD_DIR] [EMULATOR]
#   EMULATOR: "qemu" (default) or a path to the strobe binary.
set -eu
build=${1:-build}
emu=${2:-qemu}
dir=$build/guests
status=0
for w in checksum sort hash fpmath; do
    [ -x "$dir/native/$w" ] || { echo "missing $dir/native/$w (build the 'guests' target)"; exit 2; }
    "$dir/native/$w" > "$dir/$w.native.txt"
    if [ "$emu" = qemu ]; then
        timeout 20 qemu-system-mipsel -M malta -m 256 -nographic -no-reboot -net none -vga none \
            -kernel "$dir/$w.elf" > "$dir/$w.guest.raw" </dev/null || true
    else
        timeout 20 "$emu" run -kernel "$dir/$w.elf" -nographic -no-reboot > "$dir/$w.guest.raw" </dev/null || true
    fi
    # The guest console uses CR LF, and the runtime adds "exit N" after main.
    tr -d '\r' < "$dir/$w.guest.raw" > "$dir/$w.guest.lf"
    grep -v '^exit ' "$dir/$w.guest.lf" > "$dir/$w.guest.txt" || true
    if cmp -s "$dir/$w.native.txt" "$dir/$w.guest.txt" && grep -qx 'exit 0' "$dir/$w.guest.lf"; then
        echo "ok $w"
    else
        echo "FAIL $w"
        diff "$dir/$w.native.txt" "$dir/$w.guest.txt" || true
        status=1
    fi
done
exit $status
