# CPack: three Debian packages from one build (docs/packaging.md):
#   husk         the husk CLI, husk-vmm and the guest assets (component husk)
#   libhusk1     libhusk.so.1 (component libhusk)
#   libhusk-dev  headers, CMake package, husk.pc, the libhusk.so link (component dev)
# Packages must come from a tree configured for them (packaging/deb/build.sh does it): prefix
# /usr, and no test hooks in husk-vmm. cpack refuses any other tree (packaging/deb/check-tree.cmake.in).
set(HUSK_DEB_MAINTAINER "husk maintainers <husk-maintainers@example.org>"
  CACHE STRING "Maintainer field of the Debian packages")
set(HUSK_DEB_RELEASE 1 CACHE STRING "Debian revision of the packages (the -N in 0.1.0-N)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME husk)
set(CPACK_PACKAGE_VENDOR husk)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${HUSK_DEB_MAINTAINER}")
# What the packages hold must match what the binaries were built to look for.
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL husk libhusk dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${HUSK_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${HUSK_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Strips the installed targets (husk, husk-vmm, libhusk.so), not the guest kernel.
set(CPACK_STRIP_FILES ON)
# Depends from the ELF files (dpkg-shlibdeps), plus the dev package's exact libhusk1 version.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_HUSK_PACKAGE_NAME husk)
set(CPACK_DEBIAN_HUSK_PACKAGE_SECTION otherosfs)
# Sandbox networking (--net): iproute2's ip builds the topology, dnsmasq is the DNS forwarder for
# `internet` and allowed names, libnftables (loaded at run time, so dpkg-shlibdeps cannot see
# it) sets the rules. Without them only --net none works (husk doctor says so).
set(CPACK_DEBIAN_HUSK_PACKAGE_RECOMMENDS "iproute2, dnsmasq-base, libnftables1")
set(CPACK_COMPONENT_HUSK_DESCRIPTION "run untrusted code in micro-VMs
husk boots a tiny Linux guest in its own KVM micro-VM (husk-vmm, a
seccomp-jailed virtual machine monitor with virtio vsock, block and rng
devices) and runs commands in it. `husk run -- CMD` works like `docker run`:
stdin, stdout and stderr pass through and the exit status is the command's.
.
This package holds the husk command, husk-vmm, and the guest kernel,
initramfs and root filesystem images in /usr/lib/husk.")

set(CPACK_DEBIAN_LIBHUSK_PACKAGE_NAME libhusk1)
set(CPACK_DEBIAN_LIBHUSK_PACKAGE_SECTION libs)
# libhusk starts husk-vmm and boots the guest assets from the husk package; an application may
# also give its own paths, hence not Depends.
set(CPACK_DEBIAN_LIBHUSK_PACKAGE_RECOMMENDS "husk (= ${PROJECT_VERSION}-${HUSK_DEB_RELEASE})")
# A shlibs file for packages linking libhusk.so.1 (only libhusk1 has a shared library), and the
# ldconfig trigger. CPack also writes a postinst and postrm calling ldconfig for any library in
# /usr/lib (lintian: maintscript-calls-ldconfig, a warning); replacing them with empty scripts
# only trades it for maintainer-script-empty, so they stay.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_LIBHUSK_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/libhusk1/triggers)
set(CPACK_COMPONENT_LIBHUSK_DESCRIPTION "run untrusted code in micro-VMs - shared library
libhusk is the C++ SDK of husk, with a C ABI: an application creates
sandboxes (each a KVM micro-VM supervised by the library), runs jobs in them
and moves files in and out.
.
This package holds the shared library.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libhusk-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS libhusk)
set(CPACK_COMPONENT_DEV_DESCRIPTION "run untrusted code in micro-VMs - development files
libhusk is the C++ SDK of husk, with a C ABI: an application creates
sandboxes (each a KVM micro-VM supervised by the library), runs jobs in them
and moves files in and out.
.
This package holds the C++20 headers (husk/husk.hpp), the C header
(husk/husk.h), the CMake package (find_package(husk CONFIG), target
husk::husk) and the pkg-config file (husk.pc).")

# Each package's /usr/share/doc/<package>: copyright, and the changelog compressed without a
# timestamp (reproducible).
configure_file(${CMAKE_CURRENT_LIST_DIR}/changelog.in ${CMAKE_BINARY_DIR}/packaging/deb/changelog.Debian @ONLY)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/deb/changelog.Debian.gz
  COMMAND gzip -9nkf ${CMAKE_BINARY_DIR}/packaging/deb/changelog.Debian
  DEPENDS ${CMAKE_BINARY_DIR}/packaging/deb/changelog.Debian
  COMMENT "Compressing the Debian changelog" VERBATIM)
# The man pages of husk and husk-vmm, compressed the same way.
set(husk_man_pages)
foreach(page husk.1 husk-vmm.1)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/deb/${page}.gz
    COMMAND gzip -9n -c ${CMAKE_CURRENT_LIST_DIR}/man/${page} > ${CMAKE_BINARY_DIR}/packaging/deb/${page}.gz
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/man/${page}
    COMMENT "Compressing the man page ${page}")
  list(APPEND husk_man_pages ${CMAKE_BINARY_DIR}/packaging/deb/${page}.gz)
endforeach()
add_custom_target(husk-deb-docs ALL DEPENDS ${CMAKE_BINARY_DIR}/packaging/deb/changelog.Debian.gz ${husk_man_pages})
install(FILES ${husk_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT husk)
# Lintian tags that do not apply, each with its reason in the file.
install(FILES ${CMAKE_CURRENT_LIST_DIR}/husk.lintian-overrides DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides
  RENAME husk COMPONENT husk)
foreach(component_package husk:husk libhusk:libhusk1 dev:libhusk-dev)
  string(REPLACE ":" ";" pair ${component_package})
  list(GET pair 0 component)
  list(GET pair 1 package)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/copyright ${CMAKE_BINARY_DIR}/packaging/deb/changelog.Debian.gz
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package} COMPONENT ${component})
endforeach()

# Refuse to package a tree that is not meant for it.
set(HUSK_PACKAGE_TREE_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(HUSK_PACKAGE_TREE_TEST_HOOKS "${HUSK_TEST_HOOKS}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/check-tree.cmake.in ${CMAKE_BINARY_DIR}/husk-cpack-check.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_BINARY_DIR}/husk-cpack-check.cmake)

include(CPack)
