# Sourced by the build scripts: CMake arguments that compile and link husk with Debian's hardening
# flags as dpkg-buildflags gives them to a package build (fortify, stack protector, relro, bindnow,
# file prefix maps). The development build (packaging/build.sh) and the package build
# (packaging/deb/build.sh) both use them: the tests run the code as it ships, and a package build
# after a development build of the same checkout finds most of its objects in the compiler cache.
# Passed explicitly so a reconfigured tree keeps them. Needs $repo (the checkout) and dpkg-dev.
husk_debian_flag() { (cd "$repo" && DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get "$1"); }
husk_debian_flag_arguments=(
  "-DCMAKE_C_FLAGS=$(husk_debian_flag CPPFLAGS) $(husk_debian_flag CFLAGS)"
  "-DCMAKE_CXX_FLAGS=$(husk_debian_flag CPPFLAGS) $(husk_debian_flag CXXFLAGS)"
  "-DCMAKE_EXE_LINKER_FLAGS=$(husk_debian_flag LDFLAGS)"
  "-DCMAKE_SHARED_LINKER_FLAGS=$(husk_debian_flag LDFLAGS)"
)
