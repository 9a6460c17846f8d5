#!/bin/bash -p
# wingman-run stub template. The session writes one stub per guarded program
# into its bin/, with every @NAME@ below replaced by a quoted value; comment
# and blank lines are left out of the stubs (bash lexes a stub on every call).
#
# - The broker judges every call: the stub sends its argv and the daemon
#   variables set here, first thing, so the broker works while bash reads on.
#   No Python starts: the broker is reached over /dev/tcp, which is bash itself.
#   One connection per call: the request, the broker's answer, then the end.
# - A call the policy allows outright becomes the real program (`exec` in the
#   answer): no fork, about a millisecond a call here. The program keeps the
#   connection, so the broker sees the call end when the program ends; its
#   exit status goes to the caller alone.
# - An approved call runs as a child, in the foreground, so Ctrl-C reaches it
#   as usual; the stub outlives it to send its exit status on the connection
#   (the audit log has it), then ends by the same signal, if any, so the
#   calling shell sees an interrupted command.
# - The refusals come last: bash reads them only when a call is refused.

@MARK@ for @PROGRAM_TEXT@, session @SESSION_TEXT@. Generated at session start.
__wr_real=@REAL@
__wr_prog=@PROGRAM@
__wr_session=@SESSION@
__wr_secret=@SECRET@
__wr_long_wait=@LONG_WAIT@
__wr_why=
# The daemon variables set in this environment, as NAME=VALUE lines, for the broker to judge.
__wr_env=
for __wr_name in @DAEMON_VARIABLES@; do
  if [[ -n ${!__wr_name-} ]]; then __wr_env+="$__wr_name=${!__wr_name}"$'\n'; fi
done
# Ctrl-C while a human decides: hang up (the broker records the refusal) and say so.
trap '__wr_why=cancelled' INT
{
  exec 9<>/dev/tcp/127.0.0.1/@PORT@ &&
    printf '%s\0' "$__wr_secret" stub "$(($# + 4))" "$$" "$PWD" "$__wr_env" "$__wr_prog" "$@" >&9
} 2>/dev/null || __wr_why=gone

# The broker's answer: what it says goes to stderr; __wr_status is its status,
# empty when it is gone or mute; __wr_exec is set when the program may take the
# stub's place.
__wr_answer() {
  local kind value wait=2
  __wr_status= __wr_exec=
  while [[ -z $__wr_why ]] && __wr_field kind "$wait" && __wr_field value "$wait"; do
    case $kind in
      err) printf '%s' "$value" >&2 ;;
      hold) wait=$__wr_long_wait ;;
      exec) __wr_exec=1 ;;
      exit) __wr_status=$value; break ;;
    esac
  done
  trap - INT
}

# One field of the answer into the variable named $1, waiting at most $2 s. Read in 1 s steps:
# bash runs the Ctrl-C trap only once read returns, and a human may take minutes.
__wr_field() {
  local -n __wr_into=$1
  local left=$2 part got=
  while :; do
    IFS= read -r -d '' -t 1 -u 9 part && { __wr_into=$got$part; return 0; }
    (($? > 128)) || return 1  # the connection closed
    got+=$part  # a timeout keeps what it read
    [[ -z $__wr_why ]] && ((--left > 0)) || return 1
  done
}

# The program, for the daemon the session recorded.
__wr_environment() {
  unset @DAEMON_VARIABLES@
@EXPORTS@
}

# An approved call: the program as a child, without the broker's connection; its
# exit status then goes back on that connection, and nobody waits for an answer.
__wr_run() {
  trap ':' INT QUIT
  __wr_environment
  "$__wr_real" "$@" 9>&-
  __wr_status=$?
  trap '' PIPE  # a broker gone meanwhile must not change the status the caller sees
  { printf '%s\0' "$__wr_status" >&9; } 2>&-
  case $__wr_status in
    130) trap - INT; kill -INT $$ ;;
    131) trap - QUIT; kill -QUIT $$ ;;
  esac
  exit "$__wr_status"
}

__wr_answer
if [[ -z $__wr_why && $__wr_status == 0 ]]; then
  if [[ -n $__wr_exec ]]; then __wr_environment; exec "$__wr_real" "$@"; fi
  __wr_run "$@"
fi

# Refused, or no answer: bash reads this part only then.
exec 9>&-
# A broker gone or mute refuses, and so does a status that is not one (0 to 255, as the broker writes it).
case $__wr_status in
  0 | [1-9] | [1-9][0-9] | [1-9][0-9][0-9]) ((__wr_status <= 255)) || __wr_why=${__wr_why:-gone} ;;
  *) __wr_why=${__wr_why:-gone} ;;
esac
case $__wr_why in
  gone)
    printf 'wingman-run: refused: %s\n  the session %s has no broker any more (its wingman-run has ended);\n  nothing runs unchecked. Start a new session with wingman-run.\n' \
      "$__wr_prog${*:+ $*}" "$__wr_session" >&2
    exit 1 ;;
  cancelled)
    printf 'wingman-run: refused: %s\n  cancelled (Ctrl-C) while waiting for a decision; nothing ran.\n' "$__wr_prog${*:+ $*}" >&2
    exit 1 ;;
esac
exit "$__wr_status"
