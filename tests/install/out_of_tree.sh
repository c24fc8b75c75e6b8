# Shared by the install tests (sourced): install warren to a temporary
# prefix, and build an example folder out of tree against that install only.
# Sets: work (removed on exit), prefix.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# install_warren BUILD_DIR
install_warren() {
  step "install warren to $prefix"
  cmake --install "$1" --prefix "$prefix" > "$work/install.log"
}

# build_out_of_tree EXAMPLE_DIR CXX [LAUNCHER]: builds a copy in $work/example/build.
# A copy outside warren's tree, so nothing but find_package(warren) can help.
build_out_of_tree() {
  local example=$1 cxx=$2 launcher=${3:-}
  step "build $(basename "$example") out of tree, against the install only"
  cp -r "$example" "$work/example"
  rm -rf "$work/example/build"
  local flags=(-DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  [ -n "$launcher" ] && flags+=(-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher")
  cmake -S "$work/example" -B "$work/example/build" "${flags[@]}" > "$work/configure.log" 2>&1 \
    || { cat "$work/configure.log"; fail "configure"; }
  cmake --build "$work/example/build" > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }
}
