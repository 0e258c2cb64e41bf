/* thermocamd: security (private): what the IP filter and illegal login lock
 * (tcd-security.c) and the audit log (tcd-security-audit.c) share
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One object and one mutex for both: the lock's calls write audit records
 * (a failed login, a lock, a login) through the same object.
 */
#pragma once

#include "tcd-security.h"

G_BEGIN_DECLS

/* An address (an IPv6 client: its /64) with failed logins.  Failures are
 * counted per attempted user name, so that a good login as one account does
 * not give fresh guesses at another; one count at the limit locks the whole
 * address. */
typedef struct {
  GHashTable *names;            /* user name ("": none) -> failures */
  guint64 last_failure;         /* TcdSecurity.failures at the last one */
  gint64 locked_until;          /* monotonic us, 0: not locked */
} Tracked;

struct _TcdSecurity {
  GMutex lock;                  /* all of it, the audit log too */

  /* the audit log (tcd-security-audit.c) */
  gchar *audit_path;
  TcdAuditTap audit_tap;        /* the log server's delivery; NULL: none */
  gpointer audit_tap_data;
  gint audit_fd;                /* -1: not open */
  gsize audit_size;
  gchar *reserve_path;
  gsize reserve_size;           /* AUDIT_RESERVE; tests make it small */
  gsize reserve_held;           /* bytes the reserve file holds now */
  gint64 reserve_next_try;      /* monotonic us */
  GQueue pending;               /* lines ("...\n") waiting for space, oldest first */
  guint pending_max;
  guint64 lost, lost_unrecorded;
  GSource *retry;               /* while lines wait */
  gboolean warned;
  gboolean torn;                /* the file ends in a record cut by a crash */

  /* configuration */
  gboolean filter_on, filter_allow;
  GArray *ranges;               /* Range */
  gboolean lock_on;
  guint attempts, duration_min, minute_s;
  gboolean basic_web, basic_rtsp;

  GHashTable *tracked;          /* tracking_key () -> Tracked */
  GHashTable *good;             /* tracking key -> monotonic us of its last good login
                                 * (GINT64 pointer), at most MAX_GOOD */
  Tracked overflow;             /* shared by the addresses not tracked while the
                                 * table is full of running locks */
  guint64 failures;             /* failed logins so far: orders them */
  GHashTable *logins;           /* "service user address" -> last audited (monotonic us) */
  TcdSecurityLockFunc on_lock;
  gpointer on_lock_data;
  TcdAuditFunc on_audit;        /* set before any thread audits */
  gpointer on_audit_data;
};

/* tcd-security-audit.c: the log's part of tcd_security_new() (the file's
 * size, the reserve made) and of tcd_security_free() */
G_GNUC_INTERNAL void tcd_security_audit_init (TcdSecurity *s, const gchar *state_dir);
G_GNUC_INTERNAL void tcd_security_audit_clear (TcdSecurity *s);

G_END_DECLS
