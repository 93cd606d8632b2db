#!/usr/bin/env bash
# Vendors the UI's third-party JavaScript (docs/ui.md): fetches each pinned package from the npm registry with npm,
# copies the one browser file the UI loads and its licence into src/dotnet-flow/Ui/Assets/vendor/, and lists them
# in that folder's README.md. The files are committed, so building the repository needs neither npm nor a network;
# run this only to change a version.
#   bash eng/vendor-ui.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=src/dotnet-flow/Ui/Assets/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# package@version, the file in the package, the name it is served as.
packages=(
  "@dagrejs/dagre@3.1.3 dist/dagre.esm.js dagre.esm.js"
  # Cards' Vega-Lite charts (the grammar Metaflow's cards use): the browser builds, loaded as classic scripts.
  "vega@6.4.0 build/vega.min.js vega.min.js"
  "vega-lite@6.4.3 build/vega-lite.min.js vega-lite.min.js"
  "vega-embed@7.3.0 build/vega-embed.min.js vega-embed.min.js"
)

rm -rf "$out"
mkdir -p "$out"
{
  echo "# Vendored JavaScript"
  echo
  echo "Written by \`eng/vendor-ui.sh\` (do not edit): each file as its npm package publishes it, with the package's licence."
  echo
  echo "| File | Package | Licence |"
  echo "| --- | --- | --- |"
} > "$out/README.md"
for entry in "${packages[@]}"; do
  read -r spec file name <<< "$entry"
  (cd "$work" && npm pack --silent "$spec" > /dev/null)
  tarball=$(ls "$work"/*.tgz)
  mkdir "$work/p"
  tar xzf "$tarball" -C "$work/p"
  # The source map is not vendored: drop the comment that would make a browser ask for it.
  sed '/^\/\/# sourceMappingURL=/d' "$work/p/package/$file" > "$out/$name"
  license=$(node -e "console.log(require('$work/p/package/package.json').license)")
  cp "$work/p/package/LICENSE" "$out/${name%%.*}.LICENSE.txt"
  if [ -f "$work/p/package/$file.LEGAL.txt" ]; then cp "$work/p/package/$file.LEGAL.txt" "$out/$name.LEGAL.txt"; fi
  echo "| $name | $spec | $license (${name%%.*}.LICENSE.txt) |" >> "$out/README.md"
  rm -rf "$work/p" "$tarball"
done
echo "vendored into $out:"
ls "$out"
