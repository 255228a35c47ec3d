/* hvctl --dump FILE --profile FILE: the monitor's introspection verbs run on a memory dump
 * instead of a live guest, with the same output (docs/console-protocol.md, "hvctl"). */
#ifndef HVCTL_OFFLINE_H
#define HVCTL_OFFLINE_H

/* Runs the request words[0..n) (n == 0: one request per stdin line, as the interactive
 * live mode does). Returns an enum hvctl_exit. */
int hvctl_offline(const char *dump_path, const char *profile_path, char **words, int n);

#endif
