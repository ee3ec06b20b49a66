# Debian's SOCI 4.0 ships neither a CMake package nor a .pc file.
#
# Its static archives are linked, not the shared libraries: a shared library costs the daemon
# its relocation and symbol tables and the pages around every function it touches, ~100-300 KB
# of resident memory each, where a static archive adds only the code that is called
# (docs/benchmarks.md, "Overhead"). The PostgreSQL backend is linked against our own libpq
# functions (src/pq/) instead of Debian's libpq.
find_package(PostgreSQL REQUIRED) # libpq-fe.h, which soci-postgresql.h includes
find_path(SOCI_INCLUDE_DIR soci/soci.h)
find_library(SOCI_CORE_ARCHIVE libsoci_core.a)
find_library(SOCI_SQLITE3_ARCHIVE libsoci_sqlite3.a)
find_library(SOCI_POSTGRESQL_ARCHIVE libsoci_postgresql.a)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SOCI REQUIRED_VARS SOCI_INCLUDE_DIR SOCI_CORE_ARCHIVE
  SOCI_SQLITE3_ARCHIVE SOCI_POSTGRESQL_ARCHIVE)

if(SOCI_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core STATIC IMPORTED)
  set_target_properties(SOCI::core PROPERTIES
    IMPORTED_LOCATION "${SOCI_CORE_ARCHIVE}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS}")
  add_library(SOCI::sqlite3 STATIC IMPORTED)
  set_target_properties(SOCI::sqlite3 PROPERTIES
    IMPORTED_LOCATION "${SOCI_SQLITE3_ARCHIVE}"
    INTERFACE_LINK_LIBRARIES SOCI::core)
  # Whoever links this provides the PQ* functions.
  add_library(SOCI::postgresql STATIC IMPORTED)
  set_target_properties(SOCI::postgresql PROPERTIES
    IMPORTED_LOCATION "${SOCI_POSTGRESQL_ARCHIVE}"
    INTERFACE_INCLUDE_DIRECTORIES "${PostgreSQL_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES SOCI::core)
endif()
