# wingman-run hook for bash. Written into each session at its start, with the
# @NAME@ values below baked in; the session's shells read it through BASH_ENV
# (non-interactive) and --rcfile (interactive).
#
# Thin on purpose: every decision comes from the session's broker (the policy
# core, loaded once), reached over bash's own /dev/tcp: no process starts. This
# file only decides, as cheaply as it can, whether a command is worth asking about.

# =============================================================================
# Session values, baked in: the session cannot move them (PATH, WINGMAN_*).
# =============================================================================

# `bash -x` traces the user's commands, not this file's.
{ __WINGMAN_XTRACE=${-//[^x]/}; \builtin set +x; } 2>/dev/null

# Read twice in one shell (a snapshot or a script sourcing it): it is in force already.
# Only this file makes the value read-only and unexported; one from the environment is not that.
if [[ -v __WINGMAN_SESSION && ${__WINGMAN_SESSION@a} == r && $__WINGMAN_SESSION == @SESSION@ ]]; then
  if [[ -n $__WINGMAN_XTRACE ]]; then \builtin set -x; fi
  \builtin return 0
fi

# The session's own stubs are bash scripts too: they are the guard, not guarded.
if [[ $- != *[ic]* && ( $0 == @STUB_DOCKER@ || $0 == @STUB_COMPOSE@ || $0 == @STUB_PODMAN@ ) ]]; then
  if [[ -n $__WINGMAN_XTRACE ]]; then \builtin set -x; fi
  \builtin return 0
fi

__WINGMAN_SESSION=@SESSION@
__WINGMAN_PORT=@PORT@
__WINGMAN_SECRET=@SECRET@
__WINGMAN_LONG_WAIT=@LONG_WAIT@
# The session's stubs: a command that reaches one by PATH is judged there, on its real argv.
__WINGMAN_STUBS=@STUBS_DIR@
__WINGMAN_USER_BASH_ENV=@USER_BASH_ENV@
# Quotes and backslashes, dropped before matching: d\ocker, "docker".
__WINGMAN_QUOTES='[\"'\''\\]'
\builtin readonly __WINGMAN_SESSION __WINGMAN_PORT __WINGMAN_SECRET __WINGMAN_LONG_WAIT __WINGMAN_STUBS \
  __WINGMAN_USER_BASH_ENV __WINGMAN_QUOTES
# A nested shell that loses these loses its hooks.
\builtin readonly BASH_ENV ZDOTDIR 2>/dev/null

# =============================================================================
# Non-interactive shells: what text runs. A long text goes to the broker now;
# its plan is read below, so that the broker works while bash reads the rest.
# =============================================================================

# Send the broker a question, SCOPE TEXT, on a new connection ($__WINGMAN_FD, empty if none).
__wingman_send() {
  __WINGMAN_FD=
  { \builtin exec {__WINGMAN_FD}<>"/dev/tcp/127.0.0.1/$__WINGMAN_PORT" &&
    \builtin printf '%s\0' "$__WINGMAN_SECRET" hook 4 bash "$1" "$PWD" "$2" >&"$__WINGMAN_FD"; } 2>/dev/null
}

__WINGMAN_SCOPE=interactive __WINGMAN_TEXT= __WINGMAN_PLAN= __WINGMAN_DYNAMIC= __WINGMAN_FD=
if [[ $- != *i* ]]; then
  if [[ $- == *c* ]]; then
    __WINGMAN_SCOPE=string
    __WINGMAN_TEXT=${BASH_EXECUTION_STRING-}
    # Over 1 KB, as for a script, the broker's round trip costs less than matching here
    # (bash's regexes take about 1.4 us a character: 2.5 ms for 1.8 KB, against 1 ms).
    if ((${#__WINGMAN_TEXT} > 1024)); then __WINGMAN_PLAN=script; fi
  elif [[ $- != *s* && -f $0 && -r $0 && ${0##*/} != @(bash|sh|rbash) ]]; then
    __WINGMAN_SCOPE=script
    __WINGMAN_TEXT=$0
    # A short script is read here, which costs less than a round trip. A longer one the broker
    # reads itself (and keeps its plan while the file is unchanged): reading it here would cost
    # more than running it. Both drop NUL bytes, as bash does when it runs the file.
    IFS= \builtin read -r -N 1025 -d '' __WINGMAN_SHORT <"$0" 2>/dev/null
    if ((${#__WINGMAN_SHORT} > 1024)); then __WINGMAN_PLAN=file; fi
  else
    __WINGMAN_SCOPE=stdin
    __WINGMAN_DYNAMIC=1  # the text arrives line by line: every command is checked
  fi
  if [[ -n $__WINGMAN_PLAN ]]; then __wingman_send "$__WINGMAN_PLAN" "$__WINGMAN_TEXT"; fi
fi

# =============================================================================
# The user's own startup file, so that their setup keeps working.
# =============================================================================

if [[ $- == *i* ]]; then
  if [[ -r /etc/bash.bashrc ]]; then \builtin source /etc/bash.bashrc; fi
  if [[ -r ~/.bashrc ]]; then \builtin source ~/.bashrc; fi
elif [[ -n $__WINGMAN_USER_BASH_ENV && -r $__WINGMAN_USER_BASH_ENV ]]; then
  \builtin source "$__WINGMAN_USER_BASH_ENV"
fi
# Functions defined by now, ours aside (imported from the environment, or the user's), run text nobody has read.
if [[ $__WINGMAN_SCOPE != interactive ]] && \builtin compgen -A function -X __wingman_send >/dev/null 2>&1; then
  __WINGMAN_DYNAMIC=1
fi

# The broker's answer to the question sent last: 0 runs the command; anything else refuses,
# a broker that is gone or mute included (fail closed). Sets __WINGMAN_REPLY (the lookup
# name of a refused command, or the words to arm for a script). TEXT names it if refused.
__wingman_answer() {
  \builtin local __wingman_kind __wingman_value __wingman_status= __wingman_wait=2
  __WINGMAN_REPLY=
  if [[ -n $__WINGMAN_FD ]]; then
    while IFS= \builtin read -r -d '' -t "$__wingman_wait" -u "$__WINGMAN_FD" __wingman_kind &&
      IFS= \builtin read -r -d '' -t "$__wingman_wait" -u "$__WINGMAN_FD" __wingman_value; do
      case $__wingman_kind in
        err) \builtin printf '%s' "$__wingman_value" >&2 ;;
        name | words) __WINGMAN_REPLY=$__wingman_value ;;
        hold) __wingman_wait=$__WINGMAN_LONG_WAIT ;;
        exit) __wingman_status=$__wingman_value; \builtin break ;;
      esac
    done
    \builtin exec {__WINGMAN_FD}>&-
    __WINGMAN_FD=
  fi
  case $__wingman_status in
    0) \builtin return 0 ;;
    1) \builtin return 1 ;;
  esac
  __wingman_value=${1:0:200}
  \builtin printf 'wingman-run: refused: %s\n  the session %s has no broker any more (its wingman-run has ended);\n  nothing runs unchecked. Start a new session with wingman-run.\n' \
    "${__wingman_value%%$'\n'*}" "$__WINGMAN_SESSION" >&2
  \builtin return 1
}

# Ask the broker: SCOPE TEXT, and wait for its answer.
__wingman_ask() {
  __wingman_send "$1" "$2"
  __wingman_answer "$2"
}

# True when the text arms nothing: forgets what this file set, and the rest of it is never read.
__wingman_arms_nothing() {
  [[ $__WINGMAN_SCOPE != interactive && -z $__WINGMAN_DYNAMIC$__WINGMAN_REPLY ]] || \builtin return 1
  \builtin unset __WINGMAN_TEXT __WINGMAN_SCOPE __WINGMAN_DYNAMIC __WINGMAN_PLAN __WINGMAN_REPLY __WINGMAN_FD __WINGMAN_SHORT
  \builtin unset -f __wingman_send __wingman_answer __wingman_ask __wingman_arms_nothing
  if [[ -n $__WINGMAN_XTRACE ]]; then \builtin set -x; fi
}

# =============================================================================
# Non-interactive shells: the plan before the first command runs; most text arms nothing.
# A -c string or a script is refused up front only when it tampers with the hooks;
# otherwise the words the plan names are checked as they run.
# =============================================================================

__WINGMAN_REPLY=
if [[ -n $__WINGMAN_PLAN ]]; then
  __wingman_answer "$__WINGMAN_TEXT" || \builtin exit 1
  if __wingman_arms_nothing; then \builtin return 0; fi
fi
# Not read for long text that arms nothing (bash parses one command at a time).
if [[ -z $__WINGMAN_PLAN && $__WINGMAN_SCOPE == @(string|script) ]]; then
  # Short text. Most holds no guarded name, no eval and nothing that touches the hooks: a glob
  # or the regexes say so, and only text they match goes to the broker.
  if [[ $__WINGMAN_SCOPE == script ]]; then __WINGMAN_PLAIN=${__WINGMAN_SHORT//$__WINGMAN_QUOTES/}; else
    __WINGMAN_PLAIN=${__WINGMAN_TEXT//$__WINGMAN_QUOTES/}; fi
  __WINGMAN_PLAIN=$'\n '${__WINGMAN_PLAIN//$'\n'/$'\n' }
  if ((${#__WINGMAN_PLAIN} <= 24)); then
    # Short text: one glob costs less than compiling the regexes (0.4 ms).
    __WINGMAN_PREFILTER=@PREFILTER@
    if [[ $__WINGMAN_PLAIN == $__WINGMAN_PREFILTER ]]; then __WINGMAN_PLAN=1; fi
  else
    # Longer text: that glob backtracks (20 ms at 250 characters); the regexes stay linear.
    # The short one first: text with eval or source (every Claude Code call) skips compiling the long one.
    __WINGMAN_JUDGE=@JUDGE_RE@ __WINGMAN_WATCH=@WATCH_RE@
    if [[ $__WINGMAN_PLAIN =~ $__WINGMAN_WATCH || $__WINGMAN_PLAIN =~ $__WINGMAN_JUDGE ]]; then __WINGMAN_PLAN=1; fi
  fi
  \builtin unset __WINGMAN_PLAIN __WINGMAN_PREFILTER __WINGMAN_JUDGE __WINGMAN_WATCH
  if [[ -n $__WINGMAN_PLAN ]]; then
    if [[ $__WINGMAN_SCOPE == script ]]; then __WINGMAN_PLAN=file; else __WINGMAN_PLAN=script; fi
    __wingman_ask "$__WINGMAN_PLAN" "$__WINGMAN_TEXT" || \builtin exit 1
  fi
  if __wingman_arms_nothing; then \builtin return 0; fi
fi
\builtin unset __WINGMAN_SHORT

# =============================================================================
# What a shell that goes on needs (read only here: most shells never get this far).
# =============================================================================

# The words that send one command to the broker, when every command is checked.
__WINGMAN_WORDS=@WORDS@
# Up to this many armed words, the trap matches them as one regex (with the hook's own names):
# its whole cost for most commands. A regex, not an extended glob: bash matches `*@(a|b)*` by
# backtracking (95 ms on a 2,000-character command), a regex in linear time (30 us with its
# compiling). Above, it looks words up.
__WINGMAN_REGEX_WORDS=4
__WINGMAN_ERE_SPECIAL='[].+*?(){}|^$\\[]'
\builtin readonly __WINGMAN_WORDS __WINGMAN_REGEX_WORDS __WINGMAN_ERE_SPECIAL

# =============================================================================
# The checks: cheap word lookups in the shell, the policy core on a hit.
# =============================================================================

\builtin declare -gA __WINGMAN_ARMED
__WINGMAN_ARMED=()
__WINGMAN_SHADOW=

# True when one of the command's words (quotes and backslashes removed,
# directories dropped) is armed, or it names the hook's own functions.
__wingman_worth_asking() {
  \builtin local IFS=$' \t\n' __wingman_text="${BASH_COMMAND//[\\\"\']/}" __wingman_word
  if [[ $__wingman_text == *__[Ww][Ii][Nn][Gg][Mm][Aa][Nn]* ]]; then \builtin return 0; fi
  # Separators and glob characters become spaces, so the split expands no pattern (no set -f:
  # this runs before every command). An armed word holds none of them: no hit is lost.
  for __wingman_word in ${__wingman_text//[\$\(\)\`\{\};&|<>=*?[]/ }; do
    __wingman_word=${__wingman_word##*/}
    if [[ -n ${__WINGMAN_ARMED[${__wingman_word:-/}]-} ]]; then \builtin return 0; fi
  done
  \builtin return 1
}

# True when the command is a plain call of a program the session stubs, found
# by PATH: the stub judges it on the argv it really gets (variables, "$@" and
# wrapper functions expanded), so the text need not be judged here.
__wingman_reaches_stub() {
  \builtin local __wingman_name=${BASH_COMMAND%%[[:space:]]*}
  case $__wingman_name in docker | docker-compose | podman) ;; *) \builtin return 1 ;; esac
  # Command substitutions in it are the caller's to judge, not the stub's.
  [[ $BASH_COMMAND != *[\`\(\)]* ]] || \builtin return 1
  # A function of that name runs instead of the program (aliases are already expanded here).
  if \builtin declare -F -- "$__wingman_name" >/dev/null; then \builtin return 1; fi
  # Where PATH (or `hash -p`) leads that name, without starting anything.
  [[ -n ${BASH_CMDS[$__wingman_name]-} ]] || \builtin hash -- "$__wingman_name" 2>/dev/null
  [[ ${BASH_CMDS[$__wingman_name]-} == "$__WINGMAN_STUBS/$__wingman_name" ]]
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
  if __wingman_reaches_stub; then \builtin return 0; fi
  if __wingman_ask command "$BASH_COMMAND"; then \builtin return 0; fi
  if __wingman_stand_in "$__WINGMAN_REPLY"; then \builtin return 0; fi
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
# command. From then on, with a few words armed, one regex in the trap itself
# decides whether a command is worth a closer look (no function call); with
# many armed, a word lookup does.
__wingman_first() {
  \builtin shopt -s extdebug
  if ((${#__WINGMAN_ARMED[@]} > __WINGMAN_REGEX_WORDS)); then
    \builtin trap 'if [[ -n $__WINGMAN_SHADOW ]] || __wingman_worth_asking; then __wingman_check; fi' DEBUG
  else
    \builtin trap '[[ -z $__WINGMAN_SHADOW && ! ${BASH_COMMAND//$__WINGMAN_QUOTES/} =~ $__WINGMAN_PATTERN ]] || __wingman_check' DEBUG
  fi
  __wingman_check
}

# Arm every word of the session's list, or only those given (program names). With a few
# armed, the trap's regex is made of them; with more, the trap looks words up instead.
__wingman_arm_words() {
  \builtin local __wingman_word
  for __wingman_word in ${1-$__WINGMAN_WORDS}; do
    __WINGMAN_ARMED[$__wingman_word]=1
  done
  __WINGMAN_PATTERN=__[Ww][Ii][Nn][Gg][Mm][Aa][Nn]
  if ((${#__WINGMAN_ARMED[@]} <= __WINGMAN_REGEX_WORDS)); then
    for __wingman_word in "${!__WINGMAN_ARMED[@]}"; do
      # Any character a regex reads specially matches any character here: more hits, never fewer.
      __WINGMAN_PATTERN+="|${__wingman_word//$__WINGMAN_ERE_SPECIAL/.}"
    done
  fi
}

\builtin readonly -f __wingman_send __wingman_answer __wingman_ask __wingman_arms_nothing __wingman_worth_asking __wingman_reaches_stub __wingman_check __wingman_stand_in \
  __wingman_first __wingman_arm_words

# =============================================================================
# Non-interactive: judge the whole text before its first command runs.
# =============================================================================

if [[ $__WINGMAN_SCOPE != interactive ]]; then
  # The plan was asked for above; arm what it names (everything, for text read as it runs).
  if [[ -n $__WINGMAN_DYNAMIC || $__WINGMAN_REPLY == '*' ]]; then
    __wingman_arm_words
  elif [[ -n $__WINGMAN_REPLY ]]; then
    __wingman_arm_words "$__WINGMAN_REPLY"
  fi
  \builtin unset __WINGMAN_DYNAMIC __WINGMAN_PLAN
  \builtin readonly __WINGMAN_TEXT __WINGMAN_SCOPE __WINGMAN_ARMED __WINGMAN_PATTERN
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
  \builtin readonly __WINGMAN_SCOPE __WINGMAN_TEXT __WINGMAN_ARMED __WINGMAN_PATTERN
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
