#!/usr/bin/env bash
# usage: warren-man-page.sh WARREN_BINARY OUTPUT.1.gz PLUGIN_DIR_FROM_PREFIX
# Writes warren(1) from the built binary's own help: help2man renders
# `warren --help` (synopsis, global options), and a COMMANDS section, made
# here from each `warren SUBCOMMAND --help`, gives every subcommand its
# synopsis, description and options (help2man alone knows no subcommands).
# A subcommand added to the CLI appears on the next build with no edit here.
set -euo pipefail
warren=$1 out=$2 plugin_dir=$3
command -v help2man > /dev/null || { echo "warren-man-page.sh: help2man is missing (Debian help2man)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The subcommands, in the order `warren --help` lists them.
mapfile -t commands < <("$warren" --help | awk '/^[A-Za-z][A-Za-z ]*:$/ { in_list = ($0 == "Subcommands:"); next }
                                                in_list && /^  [^ ]/ { print $1 }')
[ ${#commands[@]} -gt 0 ] || { echo "warren-man-page.sh: no subcommands in '$warren --help'" >&2; exit 1; }

# roff from one CLI11 help text: its usage line, description and option
# lists (.TP items); the global options are left to OPTIONS, written once.
to_roff='
function esc(s) { gsub(/\\/, "\\e", s); gsub(/…/, "...", s); gsub(/-/, "\\-", s); if (s ~ /^[.'"'"']/) s = "\\&" s; return s }
function item(spec,   word, rest) {
  word = spec; rest = ""
  if (match(spec, / /)) { word = substr(spec, 1, RSTART - 1); rest = substr(spec, RSTART) }
  print ".TP"; print "\\fB" esc(word) "\\fR" esc(rest)
}
/^Usage: / { usage = substr($0, 8); next }
/^[A-Z][A-Za-z ]*:$/ { section = $0; skip = (section == "Global options:")
                       if (!skip) print ".PP\n\\fI" esc(section) "\\fR"; next }
skip { next }
/^$/ { next }
/^                            / { sub(/^ +/, ""); print esc($0); next }   # a description under a long item
/^  [^ ]/ { line = substr($0, 3)
           if (match(line, /  +/)) { spec = substr(line, 1, RSTART - 1); text = substr(line, RSTART + RLENGTH)
                                     if (spec != "-h,--help") { item(spec); print esc(text) } }
           else item(line)
           next }
!usage { description = description (description ? " " : "") $0; next }
{ print esc($0) }
'
{
  echo "[NAME]"
  echo "warren \\- a self\\-hosted reverse tunnel, every moving part a plugin"
  echo "[COMMANDS]"
  for command in "${commands[@]}"; do
    "$warren" "$command" --help > "$work/help.txt"
    usage=$(sed -n 's/^Usage: //p' "$work/help.txt")
    description=$(sed -n '1{/^Usage: /!p}' "$work/help.txt")
    echo ".SS \"${usage//-/\\-}\""
    echo "${description//-/\\-}"
    sed '1{/^Usage: /!d}' "$work/help.txt" | awk "$to_roff"
  done
  echo "[FILES]"
  echo ".TP"
  echo "\\fIPREFIX/${plugin_dir//-/\\-}/\\fR (\\fI/usr/${plugin_dir//-/\\-}/\\fR from the Debian package)"
  echo "The bundled plugins, libwarren\\-KIND\\-NAME.so, found beside the binary (its ../${plugin_dir//-/\\-}); \\fB\\-\\-plugin\\-dir\\fR and a config's plugin_dirs are searched first."
  echo ".TP"
  echo "\\fI/usr/share/doc/warren/examples/\\fR"
  echo "Commented example configs: edge.toml for an edge, tunnel.toml for a connector (Debian package)."
  echo ".TP"
  echo "\\fI/usr/lib/systemd/system/\\fR"
  echo "The systemd units of the Debian package: warren\\-edge.service runs an edge, warren\\-connect@.service a connector."
  echo "[SEE ALSO]"
  echo "\\fBwarren config\\-reference\\fR prints every config key of both files and of each plugin."
} > "$work/include.h2m"

# --version-string: the first line of `warren --version` (the next lines,
# ABI and build fingerprint, are not a copyright notice for help2man).
version=$("$warren" --version | head -1)
help2man --no-info --no-discard-stderr --section 1 --version-string "$version" \
  --include "$work/include.h2m" --output "$work/warren.1" "$warren"
mkdir -p "$(dirname "$out")"
gzip -9n < "$work/warren.1" > "$out.tmp"
mv "$out.tmp" "$out"
