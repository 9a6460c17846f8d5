# wingman-run hook for bash. Written into each session at its start, with the
# @NAME@ values below baked in; the session's shells read it through BASH_ENV
# (non-interactive) and --rcfile (interactive).
#
# Thin on purpose: every decision comes from the policy core
# (python -I -m sandbox.hooks.slowpath). This file only decides, as cheaply as it
# can, whether a command is worth asking about.

# =============================================================================
# Session values, baked in: the session cannot move them (PATH, WINGMAN_*).
# =============================================================================

# `bash -x` traces the user's commands, not this file's.
{ __WINGMAN_XTRACE=${-//[^x]/}; \builtin set +x; } 2>/dev/null

# The session's own stubs are bash scripts too: they are the guard, not guarded.
if [[ $- != *[ic]* && ( $0 == @STUB_DOCKER@ || $0 == @STUB_COMPOSE@ || $0 == @STUB_PODMAN@ ) ]]; then
  if [[ -n $__WINGMAN_XTRACE ]]; then \builtin set -x; fi
  \builtin return 0
fi

__WINGMAN_PYTHON=@PYTHON@
__WINGMAN_SESSION_DIR=@SESSION_DIR@
__WINGMAN_USER_BASH_ENV=@USER_BASH_ENV@
# Whole text worth a policy decision: it names a guarded program or touches the hooks.
__WINGMAN_JUDGE=@JUDGE_RE@
# Whole text that may run commands nobody can read up front (eval, source, . FILE).
__WINGMAN_WATCH=@WATCH_RE@
# The words that send one command to the policy core, when every command is checked.
__WINGMAN_WORDS=@WORDS@
\builtin readonly __WINGMAN_PYTHON __WINGMAN_SESSION_DIR __WINGMAN_USER_BASH_ENV __WINGMAN_JUDGE \
  __WINGMAN_WATCH __WINGMAN_WORDS
# A nested shell that loses these loses its hooks.
\builtin readonly BASH_ENV ZDOTDIR 2>/dev/null

# =============================================================================
# The user's own startup file first, so that their setup keeps working.
# =============================================================================

if [[ $- == *i* ]]; then
  if [[ -r /etc/bash.bashrc ]]; then \builtin source /etc/bash.bashrc; fi
  if [[ -r ~/.bashrc ]]; then \builtin source ~/.bashrc; fi
elif [[ -n $__WINGMAN_USER_BASH_ENV && -r $__WINGMAN_USER_BASH_ENV ]]; then
  \builtin source "$__WINGMAN_USER_BASH_ENV"
fi

# =============================================================================
# Non-interactive shells: read the whole text once; most never arm anything.
# =============================================================================

__WINGMAN_SCOPE=interactive
__WINGMAN_TEXT=
if [[ $- != *i* ]]; then
  if [[ $- == *c* ]]; then
    __WINGMAN_SCOPE=string
    __WINGMAN_TEXT=${BASH_EXECUTION_STRING-}
  elif [[ $- != *s* && -f $0 && -r $0 && ${0##*/} != @(bash|sh|rbash) ]]; then
    __WINGMAN_SCOPE=script
    \builtin read -r -d '' __WINGMAN_TEXT <"$0"
  else
    __WINGMAN_SCOPE=stdin  # the text arrives line by line: nothing to read up front
  fi
  __WINGMAN_PLAIN=${__WINGMAN_TEXT//[\\\"\']/}
  # Every line starts after a newline and a blank: the patterns skip comment lines.
  __WINGMAN_PLAIN=$'\n '${__WINGMAN_PLAIN//$'\n'/$'\n' }
  __WINGMAN_DYNAMIC=
  if [[ $__WINGMAN_SCOPE == stdin || $__WINGMAN_PLAIN =~ $__WINGMAN_WATCH ]] ||
    \builtin compgen -A function >/dev/null 2>&1; then
    __WINGMAN_DYNAMIC=1
  elif ! [[ $__WINGMAN_PLAIN =~ $__WINGMAN_JUDGE ]]; then
    # Nothing here can reach a guarded program: no hook, no cost.
    \builtin unset __WINGMAN_PLAIN __WINGMAN_TEXT __WINGMAN_SCOPE __WINGMAN_DYNAMIC
    if [[ -n $__WINGMAN_XTRACE ]]; then \builtin set -x; fi
    \builtin return 0
  fi
fi

# =============================================================================
# The checks: cheap word lookups in the shell, the policy core on a hit.
# =============================================================================

\builtin declare -gA __WINGMAN_ARMED
__WINGMAN_ARMED=()
__WINGMAN_SHADOW=

# The policy core decides; 0 runs the command. Anything else refuses, a
# checker that cannot start included (fail closed).
__wingman_ask() {
  "$__WINGMAN_PYTHON" -I -m sandbox.hooks.slowpath "$__WINGMAN_SESSION_DIR" bash "$@"
  \builtin local __wingman_status=$?
  if ((__wingman_status == 0 || __wingman_status == 1)); then
    \builtin return "$__wingman_status"
  fi
  \builtin printf 'wingman-run: refused: %s\n  the session'\''s checker could not run (status %s); nothing runs unchecked.\n' \
    "$2" "$__wingman_status" >&2
  \builtin return 1
}

# True when one of the command's words (quotes and backslashes removed,
# directories dropped) is armed, or it names the hook's own functions.
__wingman_worth_asking() {
  \builtin local IFS=$' \t\n' __wingman_text="${BASH_COMMAND//[\\\"\']/}" __wingman_word __wingman_glob=
  \builtin local -a __wingman_words
  if [[ $__wingman_text == *__[Ww][Ii][Nn][Gg][Mm][Aa][Nn]* ]]; then \builtin return 0; fi
  if [[ $- != *f* ]]; then __wingman_glob=1; \builtin set -f; fi
  __wingman_words=(${__wingman_text//[\$\(\)\`\{\};&|<>=]/ })
  if [[ -n $__wingman_glob ]]; then \builtin set +f; fi
  for __wingman_word in "${__wingman_words[@]}"; do
    if [[ -n ${__WINGMAN_ARMED[${__wingman_word##*/}]-} ]]; then \builtin return 0; fi
  done
  \builtin return 1
}

# Before each command. A refused one fails: it runs as a one-off function
# that returns 1 (bash reports success for a command the trap skips, which
# would let `&&` go on), so the shell goes on as after any failed command.
# Where no such function can stand in, it is skipped; a non-interactive
# shell (or subshell) then ends with status 1, the way `set -e` would.
__wingman_check() {
  if [[ -n $__WINGMAN_SHADOW ]]; then
    # Inside the stand-in itself: nothing to check, and it must stay until it returns.
    if [[ " ${FUNCNAME[*]} " == *" $__WINGMAN_SHADOW "* ]]; then \builtin return 0; fi
    \builtin unset -f -- "$__WINGMAN_SHADOW"
    __WINGMAN_SHADOW=
  fi
  if ! __wingman_worth_asking; then \builtin return 0; fi
  # A compound command's header runs nothing itself: what its expansions run
  # comes to this trap on its own (functrace), and so does its body.
  case $BASH_COMMAND in 'for '* | 'select '* | 'case '* | '[[ '* | '(( '*) \builtin return 0 ;; esac
  # Our own prompt-time function runs with the trap on (functrace): not a user command.
  if [[ " ${FUNCNAME[*]} " == *" __wingman_rearm "* ]]; then \builtin return 0; fi
  \builtin local __wingman_name
  if __wingman_name=$(__wingman_ask command "$BASH_COMMAND"); then \builtin return 0; fi
  if __wingman_stand_in "$__wingman_name"; then \builtin return 0; fi
  if [[ $- == *i* ]]; then \builtin return 1; fi
  \builtin exit 1
}

# Define NAME as a function that fails, for the one command about to run.
# Not for the user's own functions, nor for names bash cannot define.
__wingman_stand_in() {
  [[ -n $1 && $1 != builtin && $1 != __wingman* && $1 =~ ^[A-Za-z0-9_./:+@%-]+$ ]] || \builtin return 1
  if \builtin declare -F -- "$1" >/dev/null; then \builtin return 1; fi
  \builtin eval "function $1 { \\builtin return 1; }" 2>/dev/null || \builtin return 1
  __WINGMAN_SHADOW=$1
}

# extdebug (a non-zero DEBUG trap skips the command) cannot be set from a
# startup file, only from inside the trap; the first call also checks its own
# command.
__wingman_first() {
  \builtin shopt -s extdebug
  \builtin trap '__wingman_check' DEBUG
  __wingman_check
}

# Arm every word of the session's list, or only those given.
__wingman_arm_words() {
  \builtin local __wingman_word
  for __wingman_word in ${1-$__WINGMAN_WORDS}; do __WINGMAN_ARMED[$__wingman_word]=1; done
}

\builtin readonly -f __wingman_ask __wingman_worth_asking __wingman_check __wingman_stand_in __wingman_first \
  __wingman_arm_words

# =============================================================================
# Non-interactive: judge the whole text before its first command runs.
# =============================================================================

if [[ $__WINGMAN_SCOPE != interactive ]]; then
  # A -c string or a script is refused up front only when it tampers with the
  # hooks; otherwise its risky commands are checked as they run.
  __WINGMAN_NAMES=
  if [[ $__WINGMAN_SCOPE != stdin && $__WINGMAN_PLAIN =~ $__WINGMAN_JUDGE ]]; then
    __WINGMAN_NAMES=$(__wingman_ask script "$__WINGMAN_TEXT") || \builtin exit 1
  fi
  if [[ -n $__WINGMAN_DYNAMIC ]]; then
    __wingman_arm_words
  elif [[ -n $__WINGMAN_NAMES ]]; then
    __wingman_arm_words "$__WINGMAN_NAMES"
  fi
  \builtin unset __WINGMAN_PLAIN __WINGMAN_DYNAMIC __WINGMAN_NAMES
  \builtin readonly __WINGMAN_TEXT __WINGMAN_SCOPE __WINGMAN_ARMED
  if [[ -n $__WINGMAN_XTRACE ]]; then \builtin set -x; fi
  if ((${#__WINGMAN_ARMED[@]})); then
    \builtin set -T
    # The last command of this file: the trap's first call must come after it.
    \builtin trap '__wingman_first' DEBUG
  fi
else
  # ===========================================================================
  # Interactive: every command is checked; each prompt puts the trap back if
  # something (bash-preexec, a prompt framework) replaced it, keeping theirs.
  # ===========================================================================

  __wingman_arm_words
  \builtin readonly __WINGMAN_SCOPE __WINGMAN_TEXT __WINGMAN_ARMED
  __WINGMAN_THEIRS=

  # Our check first; then their DEBUG trap, with $_ as they would have seen it.
  __wingman_debug() {
    __wingman_check || \builtin return 1
    [[ -n $__WINGMAN_THEIRS ]] || \builtin return 0
    : "$1"
    \builtin eval "$__WINGMAN_THEIRS"
  }

  __wingman_interactive_first() {
    \builtin shopt -s extdebug
    \builtin trap '__wingman_debug "$_"' DEBUG
    __wingman_debug "$1"
  }

  __wingman_rearm() {
    \builtin local __wingman_status=$? __wingman_trap
    \builtin local -a __wingman_trap_argv
    __wingman_trap=$(\builtin trap -p DEBUG)
    case $__wingman_trap in
      "trap -- '__wingman_debug \"\$_\"' DEBUG" | "trap -- '__wingman_interactive_first \"\$_\"' DEBUG") ;;
      *)
        if [[ -n $__wingman_trap ]]; then
          \builtin eval "__wingman_trap_argv=(${__wingman_trap})"
          __WINGMAN_THEIRS=${__wingman_trap_argv[2]-}
        fi
        # bash-preexec keeps a DEBUG trap it found as a preexec function: ours is not one.
        if [[ "$(\builtin declare -f __bp_original_debug_trap 2>/dev/null)" == *__wingman_* ]]; then
          \builtin unset -f __bp_original_debug_trap
          preexec_functions=("${preexec_functions[@]/__bp_original_debug_trap/}")
        fi
        \builtin set -T
        \builtin trap '__wingman_interactive_first "$_"' DEBUG
        ;;
    esac
    \builtin return "$__wingman_status"
  }

  \builtin readonly -f __wingman_debug __wingman_interactive_first __wingman_rearm
  if [[ "$(\builtin declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
    PROMPT_COMMAND+=(__wingman_rearm)
  else
    PROMPT_COMMAND="${PROMPT_COMMAND:+$PROMPT_COMMAND$'\n'}__wingman_rearm"
  fi
  __wingman_rearm
fi
