#!/bin/bash -p
# wingman-run stub template. The session writes one stub per guarded program
# into its bin/, with every @NAME@ below replaced by a quoted value.
#
# - Commands the profile allows outright are recognised here, in bash, from
#   tables generated out of the same grammar and profile as the policy core;
#   the broker only records them. Everything else is the broker's to judge.
# - No Python starts: the broker is reached over /dev/tcp, which is bash itself.
# - The real program runs in the foreground, so Ctrl-C reaches it as usual; the
#   stub outlives the interrupt only to report the exit status, then ends by
#   the same signal so the calling shell sees an interrupted command.
# shellcheck disable=SC2034  # values read by the generated classifier

@MARK@ for @PROGRAM_TEXT@, session @SESSION_TEXT@. Generated at session start.
__wr_real=@REAL@
__wr_prog=@PROGRAM@
__wr_session=@SESSION@
__wr_port=@PORT@
__wr_secret=@SECRET@
__wr_long_wait=@LONG_WAIT@
__wr_id=
__wr_status=

# One request to the broker: VERB ARGS... Prints what it says to stderr; sets
# __wr_id; returns its status. A broker that is gone or mute refuses.
__wr_broker() {
  local kind value wait=2 status= cancelled=
  if ! { exec 9<>"/dev/tcp/127.0.0.1/$__wr_port"; } 2>/dev/null; then
    __wr_gone "${@:5}"
    return 1
  fi
  # Ctrl-C while a human decides: hang up (the broker records the refusal) and say so.
  trap 'cancelled=1' INT
  printf '%s\0' "$__wr_secret" "$1" "$(($# - 1))" "${@:2}" >&9
  while [[ -z $cancelled ]] && IFS= read -r -d '' -t "$wait" -u 9 kind && IFS= read -r -d '' -t "$wait" -u 9 value; do
    case $kind in
      err) printf '%s' "$value" >&2 ;;
      id) __wr_id=$value ;;
      hold) wait=$__wr_long_wait ;;
      exit) status=$value; break ;;
    esac
  done
  exec 9>&-
  trap - INT
  if [[ -n $cancelled ]]; then
    printf 'wingman-run: refused: %s\n  cancelled (Ctrl-C) while waiting for a decision; nothing ran.\n' "${*:5}" >&2
    return 1
  fi
  if [[ -z $status ]]; then
    __wr_gone "${@:5}"
    return 1
  fi
  return "$status"
}

__wr_gone() {  # PROGRAM ARGS...
  printf 'wingman-run: refused: %s\n  the session %s has no broker any more (its wingman-run has ended);\n  nothing runs unchecked. Start a new session with wingman-run.\n' \
    "$*" "$__wr_session" >&2
}

# The daemon variables set in this environment, as NAME=VALUE lines, for the broker to judge.
__wr_daemon_env() {
  local name
  __wr_env=
  for name in @DAEMON_VARIABLES@; do
    if [[ -n ${!name-} ]]; then __wr_env+="$name=${!name}"$'\n'; fi
  done
}

__wr_run() {
  trap ':' INT QUIT
  unset @DAEMON_VARIABLES@
@EXPORTS@
  "$__wr_real" "$@"
  __wr_status=$?
}

@CLASSIFY@

__wr_daemon_env
if [[ -n $__wr_real && -z $__wr_env ]] && __wr_classify "$@"; then
  __wr_broker allowed "$$" "$PWD" "$__wr_rule" "$__wr_prog" "$@" || exit 1
else
  __wr_broker stub "$$" "$PWD" "$__wr_env" "$__wr_prog" "$@" || exit
fi
__wr_run "$@"
# The exit status is recorded; nobody waits for the answer.
if { exec 9<>"/dev/tcp/127.0.0.1/$__wr_port"; } 2>/dev/null; then
  printf '%s\0' "$__wr_secret" done 3 "$__wr_id" "$__wr_status" "$$" >&9
  exec 9>&-
fi
case $__wr_status in
  130) trap - INT; kill -INT $$ ;;
  131) trap - QUIT; kill -QUIT $$ ;;
esac
exit "$__wr_status"
