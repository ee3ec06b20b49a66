#!/usr/bin/env bash
# Builds Debian's CAF (source package actor-framework 0.17.6, the version libcaf-dev installs;
# its headers are identical to the package's) with ThreadSanitizer into PREFIX, for the
# --tsan pass of scripts/test.sh. With the uninstrumented libcaf_core of the package, TSan
# cannot see the synchronisation inside CAF's mailboxes and reports every message handoff
# between actors as a data race.
#   scripts/caf-tsan.sh PREFIX        (does nothing when PREFIX already holds the build)
set -euo pipefail

PREFIX=$1
VERSION=0.17.6
ORIG=actor-framework_${VERSION}.orig.tar.gz
SHA256=e2bf5bd243f08bb7d8adde197cfe3e6d71314ed3378fe0692f8932f4c3b3928c # from the 0.17.6-2.1 .dsc
URL=http://deb.debian.org/debian/pool/main/a/actor-framework/$ORIG

if [ -f "$PREFIX/lib/libcaf_core.so" ] && [ -f "$PREFIX/lib/libcaf_io.so" ]; then
  exit 0
fi
work="$PREFIX.src"
mkdir -p "$work"
if ! echo "$SHA256  $work/$ORIG" | sha256sum -c --quiet >/dev/null 2>&1; then
  echo "caf-tsan: downloading $URL"
  curl -fsSL -o "$work/$ORIG" "$URL"
  echo "$SHA256  $work/$ORIG" | sha256sum -c --quiet
fi
rm -rf "$work/actor-framework-$VERSION"
tar xzf "$work/$ORIG" -C "$work"
# g++ 12's headers no longer include <limits> where 0.17.6 relies on it (libcaf_io), hence
# -include limits.
echo "caf-tsan: building libcaf_core and libcaf_io $VERSION with -fsanitize=thread into $PREFIX"
cmake -S "$work/actor-framework-$VERSION" -B "$work/build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-std=c++17 -include limits -fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
  -DCAF_LOG_LEVEL=QUIET -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_OPENSSL=yes \
  -DCAF_NO_TOOLS=yes -DCAF_NO_PYTHON=yes -DCAF_NO_OPENCL=yes -DCAF_NO_BENCHMARKS=yes \
  -DCAF_NO_COMPILER_CHECK=yes -DCAF_NO_SUMMARY=yes >/dev/null
cmake --build "$work/build" --target libcaf_core_shared libcaf_io_shared
cmake --install "$work/build" >/dev/null
echo "caf-tsan: done"
