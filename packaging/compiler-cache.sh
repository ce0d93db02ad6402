# Sourced by the build scripts: CMake arguments that put ccache in front of the compilers, with
# its cache beside the kernels (outside the repo), so a fresh checkout on a machine that built
# husk before compiles only what changed. Prints nothing and adds nothing without ccache.
husk_compiler_cache_arguments=()
if command -v ccache >/dev/null; then
  export CCACHE_DIR=${CCACHE_DIR:-${HUSK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/husk}/ccache}
  # Checkouts in different directories share entries: paths are hashed relative to the source.
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$repo}
  export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
  husk_compiler_cache_arguments=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
