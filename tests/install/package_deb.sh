#!/usr/bin/env bash
# usage: package_deb.sh BUILD_DIR SOURCE_DIR CXX [LAUNCHER]
# Builds the Debian packages of a full build (cpack -G DEB), checks their
# control fields and contents, unpacks both into a temporary root (dpkg -x)
# and runs the unpacked warren from there: its bundled plugins, its version,
# its man page, and a third-party plugin built against the unpacked SDK.
# Prints what it checks; exits non-zero on the first miss.
set -euo pipefail
build_dir=$1 source_dir=$2 cxx=$3 launcher=${4:-}
source "$(dirname "$0")/out_of_tree.sh"
root=$work/root
version=$("$build_dir/bin/warren" --version | sed -n '1s/^warren //p')

step "cpack -G DEB"
start=$(date +%s)
cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/packages" > "$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log"; fail "cpack"; }
echo "cpack: $(( $(date +%s) - start ))s"
runtime=$work/packages/warren_${version}_amd64.deb
dev=$work/packages/warren-dev_${version}_amd64.deb
ls "$work/packages"/*.deb
[ -f "$runtime" ] && [ -f "$dev" ] || fail "expected $(basename "$runtime") and $(basename "$dev")"
[ "$(ls "$work/packages"/*.deb | wc -l)" = 2 ] || fail "more than the two packages"

field() { dpkg-deb -f "$1" "$2"; }
step "control fields"
dpkg-deb -f "$runtime"
[ "$(field "$runtime" Package)" = warren ] && [ "$(field "$runtime" Section)" = net ] || fail "warren's name or section"
[ "$(field "$runtime" Version)" = "$version" ] || fail "warren's version is not $version"
depends=$(field "$runtime" Depends)
# dpkg-shlibdeps' packages for what the ELF files link: libc, libstdc++,
# GnuTLS (the transports) and ngtcp2 (QUIC), never a -dev package.
for lib in libc6 libstdc++6 libgnutls30 libngtcp2; do
  [[ $depends == *"$lib"* ]] || fail "warren does not depend on $lib: $depends"
done
[[ $depends != *-dev* ]] || fail "warren depends on a -dev package: $depends"
dpkg-deb -f "$dev"
[ "$(field "$dev" Package)" = warren-dev ] || fail "warren-dev's name"
dev_depends=$(field "$dev" Depends)
[[ $dev_depends == *"warren (= $version)"* && $dev_depends == *libboost1.81-dev* ]] \
  || fail "warren-dev's Depends: $dev_depends"

step "contents"
dpkg-deb -c "$runtime" | awk '{ print $6 }' | sed 's|^\./|/|' | grep -v '/$' | sort > "$work/runtime.txt"
dpkg-deb -c "$dev" | awk '{ print $6 }' | sed 's|^\./|/|' | grep -v '/$' | sort > "$work/dev.txt"
cat "$work/runtime.txt" "$work/dev.txt"
has() { grep -qx -- "$2" "$work/$1.txt" || fail "$1 package lacks $2"; }
has runtime /usr/bin/warren
has runtime /usr/lib/warren/plugins/libwarren-backend-tcp.so
has runtime /usr/lib/warren/plugins/libwarren-backend-unix.so
has runtime /usr/lib/warren/plugins/libwarren-backend-group.so
has runtime /usr/lib/warren/plugins/libwarren-backend-udp.so
has runtime /usr/lib/warren/plugins/libwarren-transport-quic.so
has runtime "/usr/lib/libwarren-asio.so.$(echo "$version" | cut -d. -f1,2)"
has runtime /usr/share/man/man1/warren.1.gz
has runtime /usr/share/doc/warren/examples/edge.toml
has runtime /usr/share/doc/warren/examples/tunnel.toml
for unit in "$source_dir"/packaging/systemd/*.service; do
  [ -e "$unit" ] && has runtime "/usr/lib/systemd/system/$(basename "$unit")"
done
has dev /usr/include/warren/sdk/plugin.hpp
has dev /usr/include/warren/sdk/sdk_hash.hpp
has dev /usr/lib/cmake/warren/warrenConfig.cmake
has dev /usr/lib/cmake/warren/warrenConformanceTargets.cmake
has dev /usr/lib/libwarren-transport-conformance.a
has dev /usr/lib/libwarren-asio.so

step "every installed file is in exactly one package (an install rule without its component is in none)"
cmake --install "$build_dir" --prefix "$work/all" > "$work/install.log"
(cd "$work/all" && find . ! -type d | sed 's|^\.|/usr|' | sort) > "$work/all.txt"
sort "$work/runtime.txt" "$work/dev.txt" > "$work/packaged.txt"
diff "$work/all.txt" "$work/packaged.txt" || fail "cmake --install and the two packages differ (< installed only, > packaged only or twice)"

step "dpkg -x both into $root"
dpkg -x "$runtime" "$root"
dpkg -x "$dev" "$root"
warren=$root/usr/bin/warren

step "the unpacked binary loads the unpacked libwarren-asio (RUNPATH \$ORIGIN/../lib)"
ldd "$warren" | grep warren-asio
asio=$(ldd "$warren" | awk '/libwarren-asio/ { print $3 }')
[ -n "$asio" ] && [ "$(realpath "$asio")" = "$(realpath "$root/usr/lib/libwarren-asio.so.$(echo "$version" | cut -d. -f1,2)")" ] \
  || fail "libwarren-asio is not the one in $root/usr/lib"

step "warren plugins: the bundled plugins, from $root/usr/lib/warren/plugins"
"$warren" plugins | tee "$work/plugins.txt"
packaged_plugins=$(grep -c '^/usr/lib/warren/plugins/libwarren-.*\.so$' "$work/runtime.txt")
listed=$(grep -c " $root/usr/lib/warren/plugins/libwarren-[a-z0-9-]*\.so$" "$work/plugins.txt" || true)
[ "$listed" = "$packaged_plugins" ] || fail "$listed plugins listed from $root, $packaged_plugins packaged"
grep -q "^backend tcp [0-9.]* $root/usr/lib/warren/plugins/libwarren-backend-tcp.so$" "$work/plugins.txt" \
  || fail "tcp not listed from $root"

step "warren version"
"$warren" version | tee "$work/version.txt"
grep -qx "warren $version" "$work/version.txt" || fail "not warren $version"

step "man page: renders, with every subcommand of warren --help"
zcat "$root/usr/share/man/man1/warren.1.gz" | groff -man -Tutf8 -ww -P-cbou 2> "$work/groff.err" > "$work/man.txt"
[ ! -s "$work/groff.err" ] || { cat "$work/groff.err"; fail "groff warns about the man page"; }
head -12 "$work/man.txt"
grep -q '^COMMANDS' "$work/man.txt" || fail "no COMMANDS section"
commands=$("$warren" --help | awk '/^[A-Za-z][A-Za-z ]*:$/ { in_list = ($0 == "Subcommands:"); next }
                                  in_list && /^  [^ ]/ { print $1 }')
[ -n "$commands" ] || fail "no subcommands in warren --help"
for command in $commands; do
  grep -q "^ *warren $command \[OPTIONS\]" "$work/man.txt" || fail "the man page lacks warren $command"
done
echo "man page: $(echo "$commands" | wc -w) subcommands"

step "a third-party plugin builds against the unpacked SDK and loads in the unpacked warren"
prefix=$root/usr
build_out_of_tree "$source_dir/examples/third-party-policy" "$cxx" "$launcher"
plugin=$work/example/build/libwarren-policy-decorrelated.so
"$warren" plugins --plugin-dir "$work/example/build" | tee "$work/listed.txt"
grep -q "^policy decorrelated 1.0.0 $plugin$" "$work/listed.txt" || fail "the third-party plugin is not listed"
echo "package_deb: all checks passed"
