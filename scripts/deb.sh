#!/bin/bash
# Build the Debian package of an already built hactl binary with plain
# dpkg-deb (no debhelper, no downloads): scripts/deb.sh BINARY OUTDIR
# VERSION (env) is `git describe` output; it is turned into a Debian
# version. Run from the repository root (make deb does).
set -euo pipefail
BIN=${1:?usage: scripts/deb.sh BINARY OUTDIR}
OUT=${2:?usage: scripts/deb.sh BINARY OUTDIR}
command -v dpkg-deb >/dev/null || { echo "deb: dpkg-deb not found (Debian package dpkg)" >&2; exit 1; }

# debversion turns git describe output into a Debian version:
#   v1.2.3 -> 1.2.3; v1.2.3-4-gabcdef0 -> 1.2.3+4.gabcdef0; a bare commit
#   abcdef0 -> 0.0~git20250101.abcdef0; -dirty -> +dirty.
debversion() {
	local v=${1#v} dirty=""
	if [[ $v == *-dirty ]]; then v=${v%-dirty}; dirty="+dirty"; fi
	if [[ $v =~ ^[0-9]+(\.[0-9]+)+ ]]; then
		v=$(printf '%s' "$v" | sed -E 's/-([0-9]+)-g([0-9a-f]+)$/+\1.g\2/; s/-/~/g')
	else
		local date
		date=$(git log -1 --format=%cd --date=format:%Y%m%d 2>/dev/null || date -u +%Y%m%d)
		v="0.0~git${date}.${v//[^0-9A-Za-z.]/.}"
	fi
	printf '%s%s' "$v" "$dirty"
}

# debarch is the Debian architecture of the binary (GOARCH names).
debarch() {
	local goarch
	goarch=$(go env GOARCH 2>/dev/null || dpkg --print-architecture)
	case $goarch in
	386) echo i386 ;;
	arm) echo armhf ;;
	ppc64le) echo ppc64el ;;
	*) echo "$goarch" ;;
	esac
}

VERSION=$(debversion "${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}")
ARCH=${DEB_ARCH:-$(debarch)}
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
R=$STAGE/root

install -D -m 0755 "$BIN" "$R/usr/bin/hactl"
install -D -m 0644 daemon/systemd/hactl.service "$R/lib/systemd/system/hactl.service"
install -D -m 0644 packaging/hactl.conf "$R/etc/hactl/hactl.conf"
install -D -m 0644 packaging/default "$R/etc/default/hactl"
install -d "$R/usr/share/man/man1"
for m in docs/man/*.1; do gzip -9n <"$m" >"$R/usr/share/man/man1/$(basename "$m").gz"; done
install -D -m 0644 completions/hactl.bash "$R/usr/share/bash-completion/completions/hactl"
install -D -m 0644 completions/_hactl "$R/usr/share/zsh/vendor-completions/_hactl"
install -D -m 0644 completions/hactl.fish "$R/usr/share/fish/vendor_completions.d/hactl.fish"
DOC=$R/usr/share/doc/hactl
install -D -m 0644 packaging/copyright "$DOC/copyright"
install -m 0644 README.md docs/*.md "$DOC/"
for f in docs/grafana-dashboard.json docs/prometheus-alerts.yml; do
	[ -f "$f" ] && install -D -m 0644 "$f" "$DOC/examples/$(basename "$f")"
done
chmod -R u+rwX,go+rX,go-w "$R"

install -d -m 0755 "$R/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$R/DEBIAN/"
install -m 0644 packaging/debian/conffiles "$R/DEBIAN/"
(cd "$R" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$R/DEBIAN/md5sums"
chmod 0644 "$R/DEBIAN/md5sums"

# A cgo build links glibc: depend on the newest symbol version it uses.
# procps (the unit's ExecReload is /bin/kill) is only recommended: every
# standard Debian install has it, and a hard dependency would make
# `dpkg -i` fail on a minimal root (apt installs recommends anyway).
DEPENDS=""
if ldd "$BIN" >/dev/null 2>&1; then
	glibc=$(grep -ao 'GLIBC_[0-9][0-9.]*' "$BIN" | sed 's/GLIBC_//' | sort -uV | tail -1)
	DEPENDS="Depends: libc6${glibc:+ (>= $glibc)}"$'\n'
fi
DEPENDS="${DEPENDS}Recommends: procps"$'\n'
SIZE=$(du -sk --exclude=DEBIAN "$R" | cut -f1)
awk -v v="$VERSION" -v a="$ARCH" -v s="$SIZE" -v d="$DEPENDS" \
	'{gsub(/@VERSION@/, v); gsub(/@ARCH@/, a); gsub(/@SIZE@/, s); if (sub(/@DEPENDS@/, "")) printf "%s", d; print}' \
	packaging/debian/control >"$R/DEBIAN/control"

mkdir -p "$OUT"
DEB=$OUT/hactl_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$R" "$DEB" >/dev/null
echo "$DEB"
