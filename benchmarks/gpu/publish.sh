#!/usr/bin/env bash
# Publishes the flashmoba CLI self-contained for linux-x64 (no .NET needed on the target) and packs it
# as flashmoba.tar.xz, next to copies of device-run.sh, the sweep scripts (full-gpu.sh, moba-gpu.sh) and the
# dense-backward profiler (ncu-dense-backward.sh), into a git-ignored folder that the GPU runner
# carries to the GPU machine.
#
# Usage: benchmarks/gpu/publish.sh [NAME] [DEST]
#   NAME  a label for the bundle (default: the current branch name)
#   DEST  destination folder (default: <main checkout>/.gpu/NAME, ignored by git)
#
# Then, on the GPU machine (from the repository root of the copied tree):
#   bash .gpu/NAME/device-run.sh .gpu/NAME info verify "bench --json \$OUT/bench.json"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
name="${1:-$(git -C "$repo" rev-parse --abbrev-ref HEAD)}"
# The main checkout owns .gpu/ even when this script runs from a linked worktree.
main="$(cd "$(git -C "$repo" rev-parse --git-common-dir)/.." && pwd)"
dest="${2:-$main/.gpu/$name}"

if ! git -C "$main" check-ignore -q "$dest/flashmoba.tar.xz" 2>/dev/null && [[ "$dest" == "$main"/* ]]; then
    echo "publish.sh: $dest is not ignored by git in $main; refusing to write there" >&2
    exit 2
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/flashmoba-publish.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

dotnet publish "$repo/src/FlashMoBA.Cli" -c Release -r linux-x64 --self-contained \
    -p:DebugType=embedded -p:GenerateDocumentationFile=false -o "$stage/app" --nologo -v quiet
"$stage/app/flashmoba" --version >/dev/null  # the bundle starts on this machine

mkdir -p "$dest"
git -C "$repo" rev-parse HEAD > "$stage/app/COMMIT"
tar -C "$stage/app" -cJf "$dest/flashmoba.tar.xz.tmp" .
mv "$dest/flashmoba.tar.xz.tmp" "$dest/flashmoba.tar.xz"
cp "$here/device-run.sh" "$here/full-gpu.sh" "$here/moba-gpu.sh" "$here/ncu-dense-backward.sh" "$dest/"
chmod +x "$dest/"*.sh
echo "published $(git -C "$repo" rev-parse --short HEAD) to $dest ($(du -h "$dest/flashmoba.tar.xz" | cut -f1))"
