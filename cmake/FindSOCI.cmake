# Debian's SOCI 4.0 ships neither a CMake package nor a .pc file.
find_package(PostgreSQL REQUIRED)
find_path(SOCI_INCLUDE_DIR soci/soci.h)
find_library(SOCI_CORE_LIBRARY soci_core)
find_library(SOCI_SQLITE3_LIBRARY soci_sqlite3)
find_library(SOCI_POSTGRESQL_LIBRARY soci_postgresql)
# The PostgreSQL backend as a static archive, linked against our own libpq functions (src/pq/)
# instead of Debian's libpq.
find_library(SOCI_POSTGRESQL_STATIC_LIBRARY libsoci_postgresql.a)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SOCI REQUIRED_VARS SOCI_INCLUDE_DIR SOCI_CORE_LIBRARY
  SOCI_SQLITE3_LIBRARY SOCI_POSTGRESQL_STATIC_LIBRARY)

if(SOCI_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core UNKNOWN IMPORTED)
  set_target_properties(SOCI::core PROPERTIES
    IMPORTED_LOCATION "${SOCI_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS}")
  add_library(SOCI::sqlite3 UNKNOWN IMPORTED)
  set_target_properties(SOCI::sqlite3 PROPERTIES
    IMPORTED_LOCATION "${SOCI_SQLITE3_LIBRARY}"
    INTERFACE_LINK_LIBRARIES SOCI::core)
  # soci-postgresql.h includes <libpq-fe.h>. Whoever links this provides the PQ* functions.
  add_library(SOCI::postgresql_static STATIC IMPORTED)
  set_target_properties(SOCI::postgresql_static PROPERTIES
    IMPORTED_LOCATION "${SOCI_POSTGRESQL_STATIC_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${PostgreSQL_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES SOCI::core)
endif()
