// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

static int read_small_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;
	int err = 0;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	if (ferror(f))
		err = -EIO;
	buf[n] = '\0';
	fclose(f);
	return err;
}

/* The comm in stat sits between the first '(' and the last ')', and may
 * itself hold spaces and parentheses. */
static int parse_stat(const char *buf, struct proc_thread_stat *st)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	size_t comm_len;
	char *p, *field;
	int i;

	if (!open || !close || close < open || close[1] != ' ')
		return -EINVAL;
	comm_len = close - open - 1;
	if (comm_len >= sizeof(st->comm))
		comm_len = sizeof(st->comm) - 1;
	memcpy(st->comm, open + 1, comm_len);
	st->comm[comm_len] = '\0';
	st->state = close[2];
	p = (char *)close + 4;
	/* After the state: field 4 is ppid; processor is field 39. */
	for (i = 4; i <= 39; i++) {
		field = p;
		while (*p && *p != ' ')
			p++;
		if (i == 4)
			st->ppid = strtoul(field, NULL, 10);
		if (i == 39) {
			st->processor = (int)strtol(field, NULL, 10);
			return 0;
		}
		if (!*p)
			break;
		p++;
	}
	st->processor = -1;
	return 0;
}

static __u64 status_field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

int procfs_read_thread(const char *proc_root, pid_t tgid, pid_t tid, struct proc_thread_stat *st)
{
	char path[256], buf[4096];
	unsigned long long exec_ns, delay_ns, pcount;
	int err;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/%d/task/%d/schedstat", proc_root, tgid, tid);
	err = read_small_file(path, buf, sizeof(buf));
	if (err)
		return err;
	if (sscanf(buf, "%llu %llu %llu", &exec_ns, &delay_ns, &pcount) != 3)
		return -EINVAL;
	st->sum_exec_ns = exec_ns;
	st->run_delay_ns = delay_ns;
	st->pcount = pcount;

	snprintf(path, sizeof(path), "%s/%d/task/%d/status", proc_root, tgid, tid);
	err = read_small_file(path, buf, sizeof(buf));
	if (err)
		return err;
	st->nvcsw = status_field(buf, "\nvoluntary_ctxt_switches:");
	st->nivcsw = status_field(buf, "\nnonvoluntary_ctxt_switches:");
	st->maxrss_kb = status_field(buf, "\nVmHWM:");

	snprintf(path, sizeof(path), "%s/%d/task/%d/stat", proc_root, tgid, tid);
	err = read_small_file(path, buf, sizeof(buf));
	if (err)
		return err;
	return parse_stat(buf, st);
}

int procfs_list_threads(const char *proc_root, pid_t tgid, pid_t *tids, int max)
{
	char path[256];
	struct dirent *de;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/%d/task", proc_root, tgid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (n < max)
			tids[n] = (pid_t)strtol(de->d_name, NULL, 10);
		n++;
	}
	closedir(dir);
	return n;
}

int procfs_read_steal(const char *proc_root, __u64 *steal_ns, int max_cpus)
{
	unsigned long long v[8];
	long ticks_per_s = sysconf(_SC_CLK_TCK);
	char path[256], line[512];
	int cpu, filled = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stat", proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (ticks_per_s <= 0)
		ticks_per_s = 100;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
			continue;
		/* cpuN user nice system idle iowait irq softirq steal */
		if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0],
			   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 9)
			continue;
		if (cpu < 0 || cpu >= max_cpus)
			continue;
		steal_ns[cpu] = v[7] * (1000000000ULL / ticks_per_s);
		if (cpu + 1 > filled)
			filled = cpu + 1;
	}
	fclose(f);
	return filled;
}

bool procfs_pid_exists(const char *proc_root, pid_t pid)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	return access(path, F_OK) == 0;
}

bool procfs_pid_alive(const char *proc_root, pid_t pid)
{
	struct proc_thread_stat st;
	pid_t tids[64];
	int n, i;

	n = procfs_list_threads(proc_root, pid, tids, 64);
	if (n < 0)
		return false;
	/* past 64 threads, some of them run: a zombie has one */
	if (n > 64)
		return true;
	for (i = 0; i < n; i++)
		if (!procfs_read_thread(proc_root, pid, tids[i], &st) && st.state != 'Z' &&
		    st.state != 'X')
			return true;
	return false;
}
