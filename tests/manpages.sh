#!/bin/sh
# manpages.sh: the man pages and shell completions `make man` writes (TAP).
# - Regenerating them (tools/man.lua, from the argparse parser and docs/)
#   gives the committed files byte for byte: they never drift.
# - Each page renders without a warning (man -l --warnings, groff -ww) and
#   lexgrog reads its NAME line (lintian's whatis check).
# - swrauth.1 holds the usage line of every command and subcommand and
#   every global option, as the parser has them.
# - The bash completion, sourced in bash, completes commands, subcommands,
#   options and their choices; zsh and fish read theirs (zsh -n and
#   compinit, fish -n and complete -C).
# Needs swrauth.so built (make) and the Debian packages man-db, groff-base,
# bash, zsh and fish (as root: sh tools/deps.sh test).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
LUA=${LUA:-lua5.4}
T=$(mktemp -d "${TMPDIR:-/tmp}/swrauth-man.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
diag() { sed 's/^/# /' "$@" | head -n 30; }
is() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got:  $2"; echo "#   want: $3"; fi; }
# has TOOL PACKAGE: whether TOOL is on PATH; a failing test naming the
# Debian package when it is not.
has() {
  command -v "$1" >/dev/null 2>&1 && return 0
  not_ok "'$1' is installed (Debian package '$2'; as root: sh tools/deps.sh test)"
  return 1
}
# The parser's answer to a Lua chunk, with the checkout's modules.
parser_says() {
  "$LUA" -e 'package.path = "lua/?.lua;" .. package.path; package.cpath = "./?.so;" .. package.cpath' \
    -e "$1"
}

PAGES="man/swrauth.1 man/docker-credential-swr.1"
FILES="$PAGES completion/swrauth.bash completion/_swrauth completion/swrauth.fish"

# ------------------------------------------------------ up to date
if (unset SOURCE_DATE_EPOCH; "$LUA" tools/man.lua "$T/gen") >"$T/gen.log" 2>&1; then
  ok "tools/man.lua writes the man pages and completions"
  for f in $FILES; do
    if cmp -s "$f" "$T/gen/$f"; then
      ok "$f is what make man writes"
    else
      not_ok "$f is what make man writes (run make man and commit it)"
      diff -u "$f" "$T/gen/$f" 2>&1 | diag
    fi
  done
else
  not_ok "tools/man.lua writes the man pages and completions (needs make first)"; diag "$T/gen.log"
fi

# The date: the version's commit, or SOURCE_DATE_EPOCH when set.
if SOURCE_DATE_EPOCH=86400 "$LUA" tools/man.lua "$T/sde" >/dev/null 2>&1; then
  is "SOURCE_DATE_EPOCH gives the date in .TH" \
    "$(sed -n 's/^\.TH SWRAUTH 1 \([^ ]*\) .*/\1/p' "$T/sde/man/swrauth.1")" 1970-01-02
else
  not_ok "tools/man.lua runs with SOURCE_DATE_EPOCH"
fi

# ------------------------------------------------------ rendering
if has man man-db && has groff groff-base && has lexgrog man-db; then
  for page in $PAGES; do
    err=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
    is "man --warnings -l $page prints no warning" "$err" ""
    err=$(groff -man -ww -z "$page" 2>&1)
    is "groff -man -ww $page prints no warning" "$err" ""
    name=$(basename "$page" .1)
    case $(lexgrog "$page" 2>&1) in
      "$page: \"$name - "?*) ok "lexgrog reads the NAME line of $page" ;;
      *) not_ok "lexgrog reads the NAME line of $page"; lexgrog "$page" 2>&1 | diag ;;
    esac
  done

  # Every command's usage line and every global option, as the parser has
  # them, in the rendered page (whitespace aside: lines wrap).
  LC_ALL=C.UTF-8 MANWIDTH=80 man -E UTF-8 -l man/swrauth.1 >"$T/swrauth.txt" 2>"$T/man.err"
  missing=$(TEXT="$T/swrauth.txt" parser_says '
    local f = assert(io.open(os.getenv("TEXT"), "rb"))
    local text = " " .. f:read("a"):gsub("%s+", " ") .. " "
    f:close()
    local parser, missing = require("swrauth.cli").parser(), {}
    local function want(s)
      s = s:gsub("^Usage: ", ""):gsub("%s+", " ")
      if not text:find(" " .. s .. " ", 1, true) then missing[#missing + 1] = s end
    end
    local function commands(p)
      for _, c in ipairs(p._commands) do
        want(c:get_usage())
        commands(c)
      end
    end
    want(parser:get_usage())
    for _, o in ipairs(parser._options) do want(table.concat(o:_get_label_lines(), " ")) end
    commands(parser)
    io.write(#missing == 0 and "none" or table.concat(missing, " | "))')
  is "swrauth.1 holds the usage line of every command and every global option" "$missing" none
  want=$(parser_says 'io.write(require("swrauth.credhelper").USAGE:gsub("^Usage: ", ""), "")')
  LC_ALL=C.UTF-8 MANWIDTH=80 man -E UTF-8 -l man/docker-credential-swr.1 >"$T/helper.txt" 2>&1
  if grep -qF -- "$want" "$T/helper.txt"; then
    ok "docker-credential-swr.1 holds the helper's usage ($want)"
  else
    not_ok "docker-credential-swr.1 holds the helper's usage ($want)"
  fi
fi

# ------------------------------------------------------ bash
ENGINES=$(parser_says 'io.write(table.concat(require("swrauth.engines").CHOICES, "\n"), "\n")' |
  sort | paste -sd ' ' -)
# complete_bash WORD...: what _swrauth puts in COMPREPLY for the words (the
# last one being completed), sorted, on one line.
complete_bash() {
  # shellcheck disable=SC2016 # expanded by bash, not here
  bash --norc --noprofile -c '. completion/swrauth.bash || exit 1
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
    _swrauth; printf "%s\n" "${COMPREPLY[@]}"' bash "$@" 2>&1 | sort | paste -sd ' ' -
}
if has bash bash; then
  # shellcheck disable=SC2016
  is "bash: sourcing it registers _swrauth for the command swrauth" \
    "$(bash --norc --noprofile -c '. completion/swrauth.bash; complete -p swrauth' 2>&1)" \
    "complete -o bashdefault -o default -F _swrauth swrauth"
  is "bash: 'swrauth rel' completes the command release" "$(complete_bash swrauth rel)" release
  is "bash: 'swrauth login' offers login and login-command" "$(complete_bash swrauth login)" \
    "login login-command"
  is "bash: 'swrauth config ' offers config's subcommands" "$(complete_bash swrauth config '')" \
    "containerd containers crictl docker gitlab kubernetes"
  is "bash: 'swrauth release --rep' completes the option --repository" \
    "$(complete_bash swrauth release --rep)" --repository
  is "bash: 'swrauth --engine ' offers the engines" "$(complete_bash swrauth --engine '')" "$ENGINES"
  is "bash: a global option after the command ('swrauth tag --engine p')" \
    "$(complete_bash swrauth tag --engine p)" podman
  is "bash: 'swrauth config kubernetes -o ' offers the formats" \
    "$(complete_bash swrauth config kubernetes -o '')" "json yaml"
  is "bash: 'swrauth --project P release SRC --remote-tag ' offers its choices" \
    "$(complete_bash swrauth --project cn-north-4 release oci:x --remote-tag '')" "api auto engine"
fi

# ------------------------------------------------------ zsh
if has zsh zsh; then
  if err=$(zsh -n completion/_swrauth 2>&1); then ok "zsh -n reads completion/_swrauth"
  else not_ok "zsh -n reads completion/_swrauth"; echo "$err" | diag; fi
  # shellcheck disable=SC2016
  is "zsh: compinit finds _swrauth in fpath for the command swrauth" \
    "$(HOME=$T zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -D
       print -r -- ${_comps[swrauth]}' zsh "$ROOT/completion" 2>&1)" _swrauth
fi

# ------------------------------------------------------ fish
# complete_fish LINE: the candidates fish offers for the command line.
complete_fish() {
  # shellcheck disable=SC2016
  HOME=$T fish --no-config -c 'source completion/swrauth.fish; complete -C $argv[1]' "$1" 2>&1 |
    cut -f1 | sort | paste -sd ' ' -
}
if has fish fish; then
  if err=$(fish -n completion/swrauth.fish 2>&1); then ok "fish -n reads completion/swrauth.fish"
  else not_ok "fish -n reads completion/swrauth.fish"; echo "$err" | diag; fi
  is "fish: 'swrauth rel' completes the command release" "$(complete_fish 'swrauth rel')" release
  is "fish: 'swrauth --engine ' offers the engines" "$(complete_fish 'swrauth --engine ')" "$ENGINES"
  is "fish: 'swrauth config ' offers config's subcommands" "$(complete_fish 'swrauth config ')" \
    "containerd containers crictl docker gitlab kubernetes"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
