#!/bin/bash -p
# wingman-run stub template. The session writes one stub per guarded program
# into its bin/, with every @NAME@ below replaced by a quoted value.
#
# - Commands the profile allows outright are recognised here, in bash, from
#   tables generated out of the same grammar and profile as the policy core;
#   the broker judges them again and records them. Everything else is the
#   broker's to judge.
# - No Python starts: the broker is reached over /dev/tcp, which is bash itself.
#   One connection per call: the request, the broker's answer, then the
#   program's exit status.
# - The real program runs in the foreground, so Ctrl-C reaches it as usual; the
#   stub outlives the interrupt only to report the exit status, then ends by
#   the same signal so the calling shell sees an interrupted command.
# - bash parses a stub on every call, one command at a time: the order below
#   lets the broker work while bash reads on, and leaves the refusals for last.
# shellcheck disable=SC2034  # values read by the generated classifier

@MARK@ for @PROGRAM_TEXT@, session @SESSION_TEXT@. Generated at session start.
__wr_real=@REAL@
__wr_prog=@PROGRAM@
__wr_session=@SESSION@
__wr_port=@PORT@
__wr_secret=@SECRET@
__wr_long_wait=@LONG_WAIT@
__wr_why=

# Connect first: the broker gets a thread ready while bash reads the classifier.
{ exec 9<>"/dev/tcp/127.0.0.1/$__wr_port"; } 2>/dev/null || __wr_why=gone

@CLASSIFY@

if [[ -z @DAEMON_VALUES@ && -n $__wr_real ]] && __wr_classify "$@"; then
  __wr_verb=allowed __wr_arg=$__wr_rule
else
  # The daemon variables set in this environment, as NAME=VALUE lines, for the broker to judge.
  __wr_verb=stub __wr_arg=
  for __wr_name in @DAEMON_VARIABLES@; do
    if [[ -n ${!__wr_name-} ]]; then __wr_arg+="$__wr_name=${!__wr_name}"$'\n'; fi
  done
fi
# Ctrl-C while a human decides: hang up (the broker records the refusal) and say so.
trap '__wr_why=cancelled' INT
if [[ -z $__wr_why ]]; then
  printf '%s\0' "$__wr_secret" "$__wr_verb" "$(($# + 4))" "$$" "$PWD" "$__wr_arg" "$__wr_prog" "$@" >&9
fi

# bash reads these two while the broker is at work.

# The broker's answer: what it says goes to stderr; __wr_status is its status,
# empty when it is gone or mute.
__wr_answer() {
  local kind value wait=2
  __wr_status=
  while [[ -z $__wr_why ]] && IFS= read -r -d '' -t "$wait" -u 9 kind && IFS= read -r -d '' -t "$wait" -u 9 value; do
    case $kind in
      err) printf '%s' "$value" >&2 ;;
      hold) wait=$__wr_long_wait ;;
      exit) __wr_status=$value; break ;;
    esac
  done
  trap - INT
}

# The real program, without the broker's connection; its exit status then goes
# back on that connection, and nobody waits for an answer.
__wr_run() {
  trap ':' INT QUIT
  unset @DAEMON_VARIABLES@
@EXPORTS@
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
if [[ -z $__wr_why && $__wr_status == 0 ]]; then __wr_run "$@"; fi

# Refused, or no answer: bash reads this part only then.
exec 9>&-
if [[ -z $__wr_why && -z $__wr_status ]]; then __wr_why=gone; fi  # a broker gone or mute refuses
case $__wr_why in
  gone)
    printf 'wingman-run: refused: %s\n  the session %s has no broker any more (its wingman-run has ended);\n  nothing runs unchecked. Start a new session with wingman-run.\n' \
      "$__wr_prog${*:+ $*}" "$__wr_session" >&2
    exit 1 ;;
  cancelled)
    printf 'wingman-run: refused: %s\n  cancelled (Ctrl-C) while waiting for a decision; nothing ran.\n' "$__wr_prog${*:+ $*}" >&2
    exit 1 ;;
esac
# What the fast path asked is refused: 1, whatever the reason.
if [[ $__wr_verb == allowed ]]; then exit 1; fi
exit "$__wr_status"
