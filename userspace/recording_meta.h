/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Keys of the run metadata the recorder writes and the reports read. */
#ifndef __WEFT_RECORDING_META_H
#define __WEFT_RECORDING_META_H

#define WEFT_VERSION "0.2.0"

#define META_VERSION "weft_version"
#define META_ARGC "argc"
#define META_ARGV_FMT "argv.%d"
#define META_MODE "mode" /* "command" or "attach" */
#define META_PIDS "pids"
#define META_START_NS "start_ns"
#define META_END_NS "end_ns"
#define META_START_REALTIME "start_time"
#define META_HOSTNAME "hostname"
#define META_KERNEL "kernel"
#define META_NCPU "ncpu"
#define META_USABLE_CPUS "usable_cpus"
#define META_RING_KB "ring_kb"
#define META_EXIT_STATUS "exit_status"
#define META_RUSAGE_USER "rusage.user_s"
#define META_RUSAGE_SYS "rusage.sys_s"
#define META_RUSAGE_MAXRSS "rusage.maxrss_kb"
#define META_LOST "lost_events"
#define META_EVENTS "events"
#define META_TARGETS_FULL "targets_full"
/* Stack sampling beside stack_every (stacks.h): the per-CPU budget of
 * stacks a second (0: none), and "1" when every blocking switch took
 * stacks and the ones the sampling would skip are marked (--stack-audit) */
#define META_STACK_RATE "stack_rate"
#define META_STACK_AUDIT "stack_audit"
#define META_USER_PREFIX "meta." /* --meta KEY=VALUE */

#endif /* __WEFT_RECORDING_META_H */
