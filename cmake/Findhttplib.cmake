# Finds cpp-httplib as Debian packages it (libcpp-httplib-dev: a header, a
# compiled library and a pkg-config file, but no CMake config).
# Defines the imported target httplib::httplib.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_HTTPLIB QUIET cpp-httplib)
endif()
find_path(HTTPLIB_INCLUDE_DIR httplib.h HINTS ${PC_HTTPLIB_INCLUDE_DIRS})
find_library(HTTPLIB_LIBRARY NAMES cpp-httplib HINTS ${PC_HTTPLIB_LIBRARY_DIRS})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(httplib REQUIRED_VARS HTTPLIB_INCLUDE_DIR HTTPLIB_LIBRARY
                                  VERSION_VAR PC_HTTPLIB_VERSION)
# The compiled library was built with the feature macros pkg-config lists
# (-DCPPHTTPLIB_OPENSSL_SUPPORT ...); users must see the same class layout.
set(HTTPLIB_DEFINITIONS "")
foreach(flag IN LISTS PC_HTTPLIB_CFLAGS_OTHER)
  if(flag MATCHES "^-D(.+)$")
    list(APPEND HTTPLIB_DEFINITIONS "${CMAKE_MATCH_1}")
  endif()
endforeach()
if(httplib_FOUND AND NOT TARGET httplib::httplib)
  add_library(httplib::httplib UNKNOWN IMPORTED)
  set_target_properties(httplib::httplib PROPERTIES
    IMPORTED_LOCATION "${HTTPLIB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${HTTPLIB_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "${HTTPLIB_DEFINITIONS}")
  target_link_libraries(httplib::httplib INTERFACE Threads::Threads)
endif()
mark_as_advanced(HTTPLIB_INCLUDE_DIR HTTPLIB_LIBRARY)
