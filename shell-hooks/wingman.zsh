# wingman-run hook for zsh. Written into each session at its start, with the
# @NAME@ values below baked in; every startup file of the session's ZDOTDIR
# sources it after setting __WINGMAN_STARTUP to its own name.
#
# Thin on purpose: every decision comes from the session's broker (the policy
# core, loaded once), reached over zsh's own zsh/net/tcp: no process starts.
# This file only decides, as cheaply as it can, whether a command is worth asking about.

# =============================================================================
# Session values, baked in (once per shell): the session cannot move them.
# =============================================================================

if [[ ${(t)__WINGMAN_SESSION} != *readonly* || ${(t)__WINGMAN_SESSION} == *export* ]]; then
  \builtin typeset -gr __WINGMAN_SESSION=@SESSION@
  \builtin typeset -gr __WINGMAN_PORT=@PORT@
  \builtin typeset -gr __WINGMAN_SECRET=@SECRET@
  \builtin typeset -gr __WINGMAN_LONG_WAIT=@LONG_WAIT@
  # The session's stubs: a command that reaches one by PATH is judged there, on its real argv.
  \builtin typeset -gr __WINGMAN_STUBS=@STUBS_DIR@
  \builtin typeset -gr __WINGMAN_ZDOTDIR=@ZDOTDIR@
  # The words that send one command to the policy core, when every command is checked,
  # and the same as one glob (with the hook's own names): the trap's whole cost for most commands.
  \builtin typeset -gr __WINGMAN_WORDS=@WORDS@
  \builtin typeset -gr __WINGMAN_ALL_PATTERN=@WORDS_PATTERN_ZSH@
  # All text either first-look regex could match (and more), as one glob.
  \builtin typeset -gr __WINGMAN_PREFILTER=@PREFILTER_ZSH@
  # Quote and backslash characters, dropped before matching: d\ocker, "docker".
  \builtin typeset -gr __WINGMAN_QUOTES='[\\"'\'']'
  # Where the user's own startup files live (their .zshenv may move it).
  \builtin typeset -g __WINGMAN_USER_ZDOTDIR=@USER_ZDOTDIR@
fi

# =============================================================================
# The user's own startup file first, read with their ZDOTDIR in place.
# =============================================================================

# Once ZDOTDIR is locked (see below), a later startup file (.zprofile, .zlogin
# of a login shell) reads the user's file with the session's ZDOTDIR in place.
if [[ ${(t)ZDOTDIR} != *readonly* ]]; then
  \builtin typeset -gx ZDOTDIR=$__WINGMAN_USER_ZDOTDIR
fi
if [[ -r $__WINGMAN_USER_ZDOTDIR/$__WINGMAN_STARTUP ]]; then
  \builtin source "$__WINGMAN_USER_ZDOTDIR/$__WINGMAN_STARTUP"
fi
if [[ ${(t)ZDOTDIR} != *readonly* ]]; then
  if [[ $ZDOTDIR != $__WINGMAN_ZDOTDIR ]]; then
    __WINGMAN_USER_ZDOTDIR=$ZDOTDIR
  fi
  # Back to the session's, so that the next startup file and every nested zsh come through here.
  \builtin typeset -gx ZDOTDIR=$__WINGMAN_ZDOTDIR
fi
if [[ $__WINGMAN_STARTUP == .zshrc ]]; then
  # Last in line, and there even if the user's .zshrc reset the list.
  precmd_functions=(${precmd_functions:#__wingman_first_prompt} __wingman_first_prompt)
fi
[[ $__WINGMAN_STARTUP == .zshenv ]] || \builtin return 0

# Read-only, so that a nested zsh cannot be sent elsewhere: at once in a
# non-interactive shell, at the first prompt in an interactive one (its
# .zshrc still has to be read from the user's ZDOTDIR).
if [[ ! -o interactive ]]; then
  \builtin typeset -gr ZDOTDIR
fi
\builtin typeset -gxr BASH_ENV 2>/dev/null

# =============================================================================
# Non-interactive shells: read the whole text once; most never arm anything.
# =============================================================================

\builtin typeset -g __WINGMAN_SCOPE=interactive __WINGMAN_TEXT= __WINGMAN_DYNAMIC=1
if [[ ! -o interactive ]]; then
  if [[ -n ${ZSH_EXECUTION_STRING+set} ]]; then
    __WINGMAN_SCOPE=string
    __WINGMAN_TEXT=$ZSH_EXECUTION_STRING
  elif [[ -n ${ZSH_SCRIPT-} && -f $ZSH_SCRIPT && -r $ZSH_SCRIPT ]]; then
    __WINGMAN_SCOPE=script
    __WINGMAN_TEXT="$(<$ZSH_SCRIPT)"
  else
    __WINGMAN_SCOPE=stdin  # the text arrives line by line: nothing to read up front
  fi
  # Most text holds no guarded name, no eval and nothing that touches the hooks: one glob
  # says so. Text it matches, or too long to match cheaply, goes to the broker, once.
  \builtin typeset -g __WINGMAN_PLAN= __WINGMAN_PLAIN=
  __WINGMAN_DYNAMIC=
  if [[ $__WINGMAN_SCOPE == stdin ]]; then
    __WINGMAN_DYNAMIC=1  # the text arrives line by line: every command is checked
  elif (( ${#__WINGMAN_TEXT} > 4096 )); then
    __WINGMAN_PLAN=1
  else
    __WINGMAN_PLAIN=${__WINGMAN_TEXT//$~__WINGMAN_QUOTES/}
    __WINGMAN_PLAIN=$'\n '${__WINGMAN_PLAIN//$'\n'/$'\n' }
    [[ $__WINGMAN_PLAIN == $~__WINGMAN_PREFILTER ]] && __WINGMAN_PLAN=1
  fi
  \builtin unset __WINGMAN_PLAIN
  if [[ -z $__WINGMAN_PLAN$__WINGMAN_DYNAMIC ]]; then
    \builtin unset __WINGMAN_TEXT __WINGMAN_DYNAMIC __WINGMAN_PLAN
    \builtin return 0
  fi
fi

# =============================================================================
# The checks: cheap word lookups in the shell, the policy core on a hit.
# =============================================================================

# Ask the broker: SCOPE TEXT. 0 runs the command; anything else refuses, a
# broker that is gone or mute included (fail closed). Sets __WINGMAN_REPLY
# (the lookup name of a refused command, or the words to arm for a script).
__wingman_ask() {
  \builtin local __wingman_fd __wingman_kind __wingman_value __wingman_status= __wingman_wait=2 REPLY
  \builtin local __wingman_name __wingman_stubbed=
  __WINGMAN_REPLY=
  # Which stubbed programs this shell would find by PATH right now: their plain calls are the stub's to judge.
  for __wingman_name in docker docker-compose podman; do
    (( ${+functions[$__wingman_name]} || ${+aliases[$__wingman_name]} )) && \builtin continue
    [[ ${commands[$__wingman_name]-} == $__WINGMAN_STUBS/$__wingman_name ]] && __wingman_stubbed+=" $__wingman_name"
  done
  (( ${+builtins[ztcp]} )) || \builtin zmodload zsh/net/tcp 2>/dev/null
  if \builtin ztcp 127.0.0.1 $__WINGMAN_PORT 2>/dev/null; then
    __wingman_fd=$REPLY
    \builtin print -rn -- "$__WINGMAN_SECRET"$'\0'hook$'\0'5$'\0'zsh$'\0'"$1"$'\0'"$PWD"$'\0'"$2"$'\0'"$__wingman_stubbed"$'\0' >&$__wingman_fd
    while \builtin read -r -d $'\0' -t $__wingman_wait -u $__wingman_fd __wingman_kind &&
      \builtin read -r -d $'\0' -t $__wingman_wait -u $__wingman_fd __wingman_value; do
      case $__wingman_kind in
        (err) \builtin print -rnu2 -- "$__wingman_value" ;;
        (name|words) __WINGMAN_REPLY=$__wingman_value ;;
        (hold) __wingman_wait=$__WINGMAN_LONG_WAIT ;;
        (exit) __wingman_status=$__wingman_value; \builtin break ;;
      esac
    done
    \builtin ztcp -c $__wingman_fd 2>/dev/null
  fi
  case $__wingman_status in
    (0) \builtin return 0 ;;
    (1) \builtin return 1 ;;
  esac
  __wingman_value=${2[1,200]}
  \builtin print -ru2 -- "wingman-run: refused: ${__wingman_value%%$'\n'*}" \
    "  the session $__WINGMAN_SESSION has no broker any more (its wingman-run has ended);" \
    "  nothing runs unchecked. Start a new session with wingman-run."
  \builtin return 1
}

\builtin typeset -gA __WINGMAN_ARMED

# =============================================================================
# Non-interactive: judge the whole text before its first command runs.
# =============================================================================

\builtin typeset -g __WINGMAN_PATTERN=$__WINGMAN_ALL_PATTERN
if [[ $__WINGMAN_SCOPE != interactive ]]; then
  # A string (zsh -c) is judged, and refused, as a whole before it starts, as
  # the assistant's own hook would judge it; a script is refused up front only
  # when it tampers with the hooks, and its risky commands are checked as they run.
  \builtin typeset -g __WINGMAN_REPLY=
  if [[ -n $__WINGMAN_PLAN ]]; then
    __wingman_ask script "$__WINGMAN_TEXT" || \builtin exit 1
  fi
  if [[ $__WINGMAN_REPLY == '*' ]]; then
    __WINGMAN_DYNAMIC=1
  elif [[ -z $__WINGMAN_DYNAMIC ]]; then
    for __WINGMAN_WORD in ${=__WINGMAN_REPLY}; do __WINGMAN_ARMED[$__WINGMAN_WORD]=1; done
    __WINGMAN_PATTERN="*(__[Ww][Ii][Nn][Gg][Mm][Aa][Nn]|${__WINGMAN_REPLY// /|})*"
  fi
  \builtin unset __WINGMAN_WORD __WINGMAN_PLAN
fi
if [[ -n $__WINGMAN_DYNAMIC ]]; then
  for __WINGMAN_WORD in ${=__WINGMAN_WORDS}; do __WINGMAN_ARMED[$__WINGMAN_WORD]=1; done
  \builtin unset __WINGMAN_WORD
fi
\builtin typeset -gr __WINGMAN_SCOPE __WINGMAN_TEXT __WINGMAN_ARMED __WINGMAN_DYNAMIC __WINGMAN_PATTERN
(( ${#__WINGMAN_ARMED} )) || \builtin return 0

# True when one of the command's words (quotes and backslashes removed,
# directories dropped) is armed, or it names the hook's own functions.
__wingman_worth_asking() {
  \builtin local __wingman_text=${ZSH_DEBUG_CMD//$~__WINGMAN_QUOTES/} __wingman_word
  [[ $__wingman_text == *__[Ww][Ii][Nn][Gg][Mm][Aa][Nn]* ]] && \builtin return 0
  for __wingman_word in ${=__wingman_text//[\$\(\)\`\{\};&|<>=]/ }; do
    (( ${+__WINGMAN_ARMED[${__wingman_word:t}]} )) && \builtin return 0
  done
  \builtin return 1
}

# True when the command is one plain call of a program the session stubs, found
# by PATH: the stub judges it on the argv it really gets (variables, "$@" and
# wrapper functions expanded), so the text need not be judged here.
__wingman_reaches_stub() {
  \builtin local __wingman_name=${ZSH_DEBUG_CMD%%[[:space:]]*}
  [[ $__wingman_name == (docker|docker-compose|podman) ]] || \builtin return 1
  # zsh hands over whole lists: only a single simple command is the stub's alone.
  [[ $ZSH_DEBUG_CMD != *[\;\&\|\(\)\{\}\`$'\n']* ]] || \builtin return 1
  (( ! ${+functions[$__wingman_name]} && ! ${+aliases[$__wingman_name]} )) || \builtin return 1
  [[ ${commands[$__wingman_name]-} == $__WINGMAN_STUBS/$__wingman_name ]]
}

# Before each command (zsh hands over a whole pipeline or && list): a refused
# single command fails with status 1 through a stand-in (below); a refused
# list is skipped, and a non-interactive shell (or subshell) then ends with
# status 1 the way ERR_EXIT would. zsh has no read-only functions: a command that
# names them goes to the policy core first. The session's own startup files
# are not checked.
__wingman_arm() {
  \builtin trap '
    if [[ -n $__WINGMAN_SHADOW ]] && (( ! ${funcstack[(Ie)$__WINGMAN_SHADOW]} )); then
      \builtin unfunction -- $__WINGMAN_SHADOW 2>/dev/null
      __WINGMAN_SHADOW=
    fi
    if [[ -z $__WINGMAN_SHADOW ]] && { (( ${#__WINGMAN_ARMED} > 4 )) && ! __wingman_worth_asking ||
      (( ${#__WINGMAN_ARMED} <= 4 )) && [[ ${ZSH_DEBUG_CMD//$~__WINGMAN_QUOTES/} != $~__WINGMAN_PATTERN ]] }; then
      :  # names nothing worth a closer look: the cost of most commands ends here
    elif [[ -z $__WINGMAN_SHADOW && ${(%):-%x} != $__WINGMAN_ZDOTDIR/(wingman.zsh|.zshenv|.zprofile|.zshrc|.zlogin|.zlogout) ]] &&
      __wingman_worth_asking && ! __wingman_reaches_stub && ! __wingman_ask command "$ZSH_DEBUG_CMD" &&
      ! __wingman_stand_in "$__WINGMAN_REPLY"; then
      if [[ -o interactive ]]; then \builtin setopt err_exit; else \builtin exit 1; fi
    fi' DEBUG
}

# A refused command fails rather than being skipped (zsh, like bash, reports
# success for a skipped one): NAME becomes a function that returns 1, for the
# one command about to run. Not for the user's own functions.
__wingman_stand_in() {
  [[ -n $1 && $1 != (builtin|__wingman*) && $1 =~ '^[A-Za-z0-9_./:+@%-]+$' ]] || \builtin return 1
  (( ${+functions[$1]} )) && \builtin return 1
  functions[$1]='\builtin return 1'
  __WINGMAN_SHADOW=$1
}

# An interactive shell is armed, and its ZDOTDIR locked, at the first prompt:
# after the user's own startup files, as bash reads ~/.bashrc before its hook.
__wingman_first_prompt() {
  precmd_functions=(${precmd_functions:#__wingman_first_prompt})
  \builtin typeset -gr ZDOTDIR
  __wingman_arm
}

if [[ ! -o interactive ]]; then
  __wingman_arm
fi
