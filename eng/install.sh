#!/usr/bin/env bash
# Builds dotnet flow from source, installs the global tool and the 'dotnet new flow' template, then creates the
# template's sample flow in a temporary folder and runs it. Safe to run again: each run packs a new version.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
feed="$repo/artifacts/packages"
version="0.1.0-dev.$(date -u +%Y%m%d%H%M%S)"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
echo "==> Packing Flow.Sdk, dotnet-flow and Flow.Templates $version into $feed"
for project in src/Flow.Sdk/Flow.Sdk.csproj src/dotnet-flow/dotnet-flow.csproj templates/Flow.Templates.csproj; do
  dotnet pack "$project" -c Release -nr:false -v:q -nologo "-p:Version=$version"
done

echo "==> Installing the global tool (dotnet flow)"
# From outside the repository: its nuget.config maps package sources, which --add-source cannot be combined with.
(cd "$(mktemp -d)" && dotnet tool update --global dotnet-flow --add-source "$feed" --version "$version")

echo "==> Installing the template (dotnet new flow)"
dotnet new install "$feed/Flow.Templates.$version.nupkg" --force

tools="$HOME/.dotnet/tools"
case ":$PATH:" in
  *":$tools:"*) ;;
  *) export PATH="$PATH:$tools"; echo "note: add $tools to your PATH to use 'dotnet flow' in new shells" ;;
esac

sample=$(mktemp -d)/Hello
echo "==> Creating and running a sample flow in $sample"
# The new project pins the tool at its Flow.Sdk's version (.config/dotnet-tools.json) and its restore brings that
# tool into the package cache, so 'dotnet flow' in it runs the matching tool at once (docs/snapshot.md).
dotnet new flow -n Hello -o "$sample"
cd "$sample"
dotnet flow run
dotnet flow show
dotnet flow dump latest/Hello
echo "==> Done. Create your own with: dotnet new flow -n MyFlow && cd MyFlow && dotnet flow run"
