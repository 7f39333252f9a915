#!/usr/bin/env bash
# The VS Code extension, as the suite checks it: its npm packages from the
# lock file, the grammar tests (vscode-tmgrammar-test), and the .vsix.
#   editors/vscode/test.sh OUT_DIR     (a copy is built in OUT_DIR)
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: test.sh OUT_DIR}
mkdir -p "$out"
for f in package.json package-lock.json extension.js language-configuration.json .vscodeignore; do
  cp "$src/$f" "$out/"
done
rm -rf "$out/syntaxes" "$out/test"
cp -r "$src/syntaxes" "$src/test" "$out/"
cd "$out"
[ -d node_modules ] && cmp -s package-lock.json node_modules/.package-lock.json.copy || {
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.package-lock.json.copy
}
npx --no-install vscode-tmgrammar-test -g syntaxes/qianmian.tmLanguage.json 'test/*.test.qm'
npx --no-install vsce package --allow-missing-repository --skip-license -o qianmian.vsix
# The package holds the grammar, the client and its runtime dependency.
files=$(npx --no-install vsce ls)
for f in extension.js syntaxes/qianmian.tmLanguage.json language-configuration.json \
         node_modules/vscode-languageclient/package.json; do
  grep -qx "$f" <<< "$files" || { echo "qianmian.vsix lacks $f" >&2; exit 1; }
done
