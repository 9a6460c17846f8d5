# wingman-run hook for bash. Written into each session at its start, with the
# @NAME@ values below baked in; the session's shells read it through BASH_ENV
# (non-interactive) and --rcfile (interactive).
#
# Thin on purpose: every decision comes from the policy core
# (python -I -m sandbox.cli.hook). This file only decides, as cheaply as it
# can, whether a command is worth asking about.

# =============================================================================
# Session values, baked in: the session cannot move them (PATH, WINGMAN_*).
# =============================================================================

# The session's own stubs are bash scripts too: they are the guard, not guarded.
if [[ $- != *[ic]* && ( $0 == @STUB_DOCKER@ || $0 == @STUB_COMPOSE@ || $0 == @STUB_PODMAN@ ) ]]; then
  \builtin return 0
fi

__WINGMAN_PYTHON=@PYTHON@
__WINGMAN_SESSION_DIR=@SESSION_DIR@
__WINGMAN_USER_BASH_ENV=@USER_BASH_ENV@
# Text that names a guarded program or touches the hooks: worth asking about.
__WINGMAN_JUDGE=@JUDGE_GLOB@
# Text that may run commands nobody can read up front (eval, source).
__WINGMAN_WATCH=@WATCH_GLOB@
\builtin readonly __WINGMAN_PYTHON __WINGMAN_SESSION_DIR __WINGMAN_USER_BASH_ENV __WINGMAN_JUDGE __WINGMAN_WATCH
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

__WINGMAN_SCOPE=
__WINGMAN_TEXT=
if [[ $- != *i* ]]; then
  if [[ $- == *c* ]]; then
    __WINGMAN_SCOPE=string
    __WINGMAN_TEXT=${BASH_EXECUTION_STRING-}
  elif [[ $- != *s* && -f $0 && -r $0 && ${0##*/} != @(bash|sh|rbash) ]]; then
    __WINGMAN_SCOPE=script
    \builtin read -r -d '' __WINGMAN_TEXT <"$0"
  else
    __WINGMAN_SCOPE=stdin  # the text arrives line by line: watch every command
  fi
  __WINGMAN_PLAIN=${__WINGMAN_TEXT//[\\\"\']/}
  if [[ $__WINGMAN_SCOPE != stdin && $__WINGMAN_PLAIN != $__WINGMAN_JUDGE && $__WINGMAN_PLAIN != $__WINGMAN_WATCH ]] &&
    ! \builtin compgen -A function >/dev/null 2>&1; then
    # Nothing here can reach a guarded program: no hook, no cost.
    \builtin unset __WINGMAN_PLAIN __WINGMAN_TEXT __WINGMAN_SCOPE
    \builtin return 0
  fi
fi

# =============================================================================
# The checks: a cheap glob in the shell, the policy core on a hit.
# =============================================================================

# The policy core decides; 0 runs the command. Anything else refuses, a
# checker that cannot start included (fail closed).
__wingman_ask() {
  "$__WINGMAN_PYTHON" -I -m sandbox.cli.hook "$__WINGMAN_SESSION_DIR" bash "$@"
  \builtin local __wingman_status=$?
  if ((__wingman_status == 0 || __wingman_status == 1)); then
    \builtin return "$__wingman_status"
  fi
  \builtin printf 'wingman-run: refused: %s\n  the session'\''s checker could not run (status %s); nothing runs unchecked.\n' \
    "${@: -1}" "$__wingman_status" >&2
  \builtin return 1
}

# Before each command: skip it, and in a non-interactive shell end the shell
# (or subshell) with status 1 the way `set -e` would, when the core refuses it.
__wingman_check() {
  \builtin local __wingman_cmd="${BASH_COMMAND//[\\\"\']/}"
  [[ $__wingman_cmd == $__WINGMAN_JUDGE ]] || \builtin return 0
  if [[ $__WINGMAN_SCOPE == string ]]; then
    __wingman_ask command "$BASH_COMMAND" "$__WINGMAN_TEXT" && \builtin return 0
  else
    __wingman_ask command "$BASH_COMMAND" && \builtin return 0
  fi
  [[ $- == *i* ]] && \builtin return 1
  \builtin exit 1
}

# extdebug (a non-zero DEBUG trap skips the command) cannot be set from a
# startup file, only from inside the trap; the first call also checks its own
# command.
__wingman_first() {
  \builtin shopt -s extdebug
  \builtin trap '__wingman_check' DEBUG
  __wingman_check
}

\builtin readonly -f __wingman_ask __wingman_check __wingman_first

# =============================================================================
# Non-interactive: judge the whole text before its first command runs.
# =============================================================================

if [[ $- != *i* ]]; then
  # A string (bash -c) is refused as a whole, as the assistant's own hook
  # would; a script only when it tampers with the hooks, else command by command.
  if [[ $__WINGMAN_SCOPE != stdin && $__WINGMAN_PLAIN == $__WINGMAN_JUDGE ]]; then
    __wingman_ask "$__WINGMAN_SCOPE" "$__WINGMAN_TEXT" || \builtin exit 1
  fi
  \builtin unset __WINGMAN_PLAIN
  \builtin readonly __WINGMAN_TEXT __WINGMAN_SCOPE
  \builtin shopt -s extglob
  \builtin set -T
  # The last command of this file: the trap's first call must come after it.
  \builtin trap '__wingman_first' DEBUG
else
  # ===========================================================================
  # Interactive: every command is checked; each prompt puts the trap back if
  # something (bash-preexec, a prompt framework) replaced it, keeping theirs.
  # ===========================================================================

  __WINGMAN_SCOPE=interactive
  \builtin readonly __WINGMAN_SCOPE __WINGMAN_TEXT
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
        \builtin shopt -s extglob
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
