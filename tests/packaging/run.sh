#!/usr/bin/env bash
# The packages as a user gets them. Packs every packable project into a local folder, then:
#   1. checks each package's metadata (readme, licence, description, tags, repository, version) and symbols;
#   2. installs the `ranking` .NET tool from that folder into a temporary tool path and runs `ranking demo`
#      on a small generated set;
#   3. builds and runs a console project that references Ranking.Core and Ranking.LightGbm from that folder,
#      whose Program.cs is the README's package example (the block after its "package example" marker).
# Prints one "PASS name" / "FAIL name" line per check (.ci/run counts them) and exits non-zero on any failure.
# Restores go to a private package folder, so an older build of the same version cached on this machine is
# never used; other packages come from the machine's package cache or its configured NuGet sources.
set -uo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ranking-packages.XXXXXX")
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; [ -f "$work/log" ] && tail -n 40 "$work/log" | sed 's/^/    /'; failed=$((failed + 1)); }
finish() { echo "packaging checks done: $passed passing, $failed failing"; [ "$failed" -eq 0 ]; exit $?; }

version=$(dotnet msbuild src/Ranking.Core/Ranking.Core.csproj -getProperty:Version 2>/dev/null | tr -d '[:space:]')
if [ -z "$version" ]; then fail version "could not read the Version property"; finish; fi
feed="$work/feed"
packages=("Ranking.Core" "Ranking.Gpu" "Ranking.LightGbm" "Ranking.MLNet" "ranking")

# 1. Pack everything (tests and benchmarks are not packable).
if dotnet pack Ranking.sln -c Release -o "$feed" >"$work/log" 2>&1; then
  pass "pack"
else
  fail "pack" "dotnet pack Ranking.sln failed"; finish
fi

# 2. Metadata and symbols of every package.
for id in "${packages[@]}"; do
  nupkg="$feed/$id.$version.nupkg"
  problems=()
  if [ ! -f "$nupkg" ]; then fail "metadata $id" "no $id.$version.nupkg in the feed"; continue; fi
  [ -f "$feed/$id.$version.snupkg" ] || problems+=("no symbol package")
  nuspec=$(unzip -p "$nupkg" "$id.nuspec" 2>/dev/null)
  listing=$(unzip -l "$nupkg" 2>/dev/null)   # read once: `unzip | grep -q` would fail under pipefail when grep stops early
  for field in '<license type="expression">' '<readme>README.md</readme>' '<description>' '<tags>' '<repository type="git" url="http' "<version>$version</version>"; do
    grep -qF -- "$field" <<<"$nuspec" || problems+=("nuspec lacks $field")
  done
  grep -qE ' README\.md$' <<<"$listing" || problems+=("README.md not packed")
  if [ "$id" = "ranking" ]; then
    grep -qF '<packageType name="DotnetTool" />' <<<"$nuspec" || problems+=("not a DotnetTool package")
  else
    grep -qE " lib/net10\.0/$id\.dll$" <<<"$listing" || problems+=("lib/net10.0/$id.dll missing")
    grep -qE " lib/net10\.0/$id\.xml$" <<<"$listing" || problems+=("XML documentation lib/net10.0/$id.xml missing")
  fi
  if [ ${#problems[@]} -eq 0 ]; then pass "metadata $id"; else rm -f "$work/log"; fail "metadata $id" "$(IFS=';'; echo "${problems[*]}")"; fi
done

# A private package folder; our packages only from the feed, everything else from the machine's cache or sources.
cache=$(dotnet nuget locals global-packages --list 2>/dev/null | sed -E 's/^global-packages: *//' | tr -d '\r')
export NUGET_PACKAGES="$work/packages"
cat >"$work/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="ranking-local" value="$feed" />
    <add key="machine-cache" value="$cache" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="ranking-local"><package pattern="Ranking.*" /><package pattern="ranking" /></packageSource>
    <packageSource key="machine-cache"><package pattern="*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
EOF

# 3. The tool: install into a temporary tool path, then `ranking version` and a small `ranking demo`.
tools="$work/tools"
if dotnet tool install ranking --version "$version" --tool-path "$tools" --configfile "$work/nuget.config" >"$work/log" 2>&1; then
  pass "tool install"
  if "$tools/ranking" version >"$work/log" 2>&1 && grep -qF "ranking $version" "$work/log"; then
    pass "tool version"
  else
    fail "tool version" "'ranking version' did not print 'ranking $version'"
  fi
  if (cd "$work" && "$tools/ranking" demo --queries 60 --out "$work/demo" --json >"$work/demo.json" 2>"$work/log"); then
    missing=()
    for needle in '"oracle"' '"lambdamart"' '"ndcg@10"'; do grep -qF "$needle" "$work/demo.json" || missing+=("$needle"); done
    [ -f "$work/demo/report.md" ] || missing+=("report.md")
    if [ ${#missing[@]} -eq 0 ]; then pass "tool demo"; else fail "tool demo" "demo output lacks ${missing[*]}"; fi
  else
    fail "tool demo" "'ranking demo --queries 60' failed"
  fi
else
  fail "tool install" "dotnet tool install ranking failed"
fi

# 4. A consumer project running the README's package example.
consumer="$work/consumer"
mkdir -p "$consumer"
cp tests/packaging/consumer/Consumer.csproj "$consumer/"
cp "$work/nuget.config" "$consumer/nuget.config"
awk '/<!-- package example:/ { marked = 1; next }
     marked && /^```csharp/ { inside = 1; next }
     inside && /^```/ { exit }
     inside { print }' README.md >"$consumer/Program.cs"
if [ ! -s "$consumer/Program.cs" ]; then
  rm -f "$work/log"; fail "consumer" "README.md has no csharp block after a '<!-- package example:' marker"
elif (cd "$consumer" && dotnet run -c Release -p:RankingVersion="$version" >"$work/consumer.out" 2>"$work/log"); then
  if grep -qE '^listnet: test NDCG@10 0\.[0-9]+' "$work/consumer.out" && grep -qE '^lambdamart: test NDCG@10 0\.[0-9]+' "$work/consumer.out"; then
    pass "consumer"
  else
    cp "$work/consumer.out" "$work/log"; fail "consumer" "the example ran but did not print both rankers' NDCG@10"
  fi
else
  cat "$work/consumer.out" >>"$work/log"; fail "consumer" "the README's package example did not build or run"
fi

finish
