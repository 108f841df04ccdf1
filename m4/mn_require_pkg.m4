# MN_REQUIRE_PKG(VARIABLE-PREFIX, PKG-CONFIG-NAME, DEBIAN-PACKAGE)
# Finds a required library with pkg-config, or stops with the Debian package to install.
AC_DEFUN([MN_REQUIRE_PKG],
[PKG_CHECK_MODULES([$1], [$2], [],
  [AC_MSG_ERROR([$2 was not found by pkg-config: install the Debian package $3 (apt-get install $3)])])])
