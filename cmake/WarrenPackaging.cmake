# Debian packages: `cpack -G DEB` in the build directory (after a full build)
# writes two packages from the install rules' two components:
#   runtime -> warren       the binary, bundled plugins, libwarren-asio, the
#                           systemd units, the man page, example configs
#   dev     -> warren-dev   SDK headers, the CMake package (find_package(warren)),
#                           the transport conformance suite
# Every install() rule in the tree names one of the two components; a rule
# without one would land in neither package (tests/install/package_deb.sh
# fails on it). Included last from the top CMakeLists.txt.

# The man page, from the built binary's help (packaging/man/warren-man-page.sh,
# help2man). Part of the default build so that the packages have it; without
# help2man the build says so and the package test fails on the missing page.
find_program(WARREN_HELP2MAN help2man)
set(WARREN_MAN_PAGE "${PROJECT_BINARY_DIR}/${CMAKE_INSTALL_MANDIR}/man1/warren.1.gz")
if(WARREN_HELP2MAN)
  add_custom_command(OUTPUT "${WARREN_MAN_PAGE}"
    COMMAND bash "${PROJECT_SOURCE_DIR}/packaging/man/warren-man-page.sh" "$<TARGET_FILE:warren>"
            "${WARREN_MAN_PAGE}" "${WARREN_PLUGIN_INSTALL_DIR}"
    DEPENDS warren "${PROJECT_SOURCE_DIR}/packaging/man/warren-man-page.sh"
    COMMENT "Generating warren(1) from warren --help")
  add_custom_target(warren-man ALL DEPENDS "${WARREN_MAN_PAGE}")
else()
  message(WARNING "help2man not found (Debian help2man, scripts/bootstrap.sh): no man page is built or packaged")
endif()
# OPTIONAL, as the conformance suite's archives: a build of warren-bundle
# alone installs without it.
install(FILES "${WARREN_MAN_PAGE}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1" COMPONENT runtime OPTIONAL)

# The example configs, commented, for an edge and a connector.
install(FILES "${PROJECT_SOURCE_DIR}/examples/configs/edge.toml" "${PROJECT_SOURCE_DIR}/examples/configs/tunnel.toml"
  DESTINATION "${CMAKE_INSTALL_DOCDIR}/examples" COMPONENT runtime)

# The systemd units in packaging/systemd/, whichever exist (none is made up
# here). lib/systemd/system under the prefix: /usr/lib/systemd/system in the
# package, and /usr/local/lib/systemd/system, which systemd also reads, for
# `cmake --install build` with the default prefix.
file(GLOB WARREN_SYSTEMD_UNITS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/packaging/systemd/*.service")
if(WARREN_SYSTEMD_UNITS)
  install(FILES ${WARREN_SYSTEMD_UNITS} DESTINATION lib/systemd/system COMPONENT runtime)
endif()

set(CPACK_PACKAGE_NAME warren)
set(CPACK_PACKAGE_VENDOR warren)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "warren maintainers <warren@localhost>")
# Empty: CPackDeb would put the project's summary before each component's
# description, whose own first line is its package's synopsis.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
# Release packages: no debug info (the build is RelWithDebInfo).
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # warren_0.1.0_amd64.deb, warren-dev_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# gzip, not xz: xz takes minutes for the conformance archives (33 MB, with
# debug info) on a loaded 2-core machine; gzip takes seconds.
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME warren)
# First line: the synopsis; CPackDeb indents the rest and makes the empty
# line a paragraph break.
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "self-hosted reverse tunnel, every moving part a plugin
A connector on a private machine dials out to an edge you run, and the edge
forwards every public TCP connection it accepts to the connector, which
delivers it to a local service. Transports (QUIC, HTTP/2 over TLS), edge
discovery (DNS SRV, static), backends and policies are plugins chosen by
name in a TOML file.

This package has the warren binary, its bundled plugins, the man page, the
systemd units and example configs.")
# The runtime libraries' packages, from the ELF files (dpkg-shlibdeps, from
# dpkg-dev). libwarren-asio is in the package itself: its folder is private.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${PROJECT_BINARY_DIR}/${CMAKE_INSTALL_LIBDIR}")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME warren-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION devel)
set(CPACK_COMPONENT_DEV_DESCRIPTION "SDK for warren plugins
The headers and CMake package (find_package(warren)) to build a transport,
discovery, backend or policy plugin for warren out of its tree, and the
transport conformance suite that a transport plugin runs against itself.")
# What find_package(warren) and warren_add_transport_conformance() find:
# Boost (headers, CONFIG), Catch2 2 and GnuTLS. The exact warren: a plugin's
# build fingerprint must match the binary that loads it.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "warren (= ${PROJECT_VERSION}), libboost1.81-dev, catch2, libgnutls28-dev")

include(CPack)
