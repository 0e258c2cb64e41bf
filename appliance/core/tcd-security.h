/* thermocamd: who may come in (IP address filter), who is locked out
 * (illegal login lock) and what happened (security audit log)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One object shared by every port the daemon opens (HTTP, HTTPS, RTSP,
 * Modbus).  Thread-safe: the servers may call it from their own threads.
 * Configured from the "security" section of the configuration.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _TcdSecurity TcdSecurity;

/* Called on the main context when an address gets locked (the illegal login
 * lock engaged after too many failed logins) */
typedef void (*TcdSecurityLockFunc) (const gchar *address, const gchar *service,
                                     const gchar *user, guint minutes, gpointer user_data);

/* Called with every audit record as it is made, in the thread that made it
 * (the daemon copies them to the journal) */
typedef void (*TcdAuditFunc) (const gchar *type, const gchar *user, const gchar *address,
                              const gchar *detail, gpointer user_data);

TcdSecurity *tcd_security_new (const gchar *state_dir);
void         tcd_security_free (TcdSecurity *s);
void         tcd_security_set_lock_callback (TcdSecurity *s, TcdSecurityLockFunc func,
                                             gpointer user_data);
/* Set once, before the servers start */
void         tcd_security_set_audit_callback (TcdSecurity *s, TcdAuditFunc func,
                                              gpointer user_data);
/* How long a "minute" of the lock duration lasts, in seconds (60; tests make
 * it short) */
void         tcd_security_set_minute (TcdSecurity *s, guint seconds);

/* Applies the "security" section (already validated): authentication modes,
 * illegal login lock, IP address filter */
void         tcd_security_configure (TcdSecurity *s, JsonNode *section);
/* Checks an IP filter list ("a.b.c.d", "a.b.c.d/n", "a.b.c.d-e.f.g.h", and
 * the same of IPv6 addresses);
 * on failure *index is the bad entry */
gboolean     tcd_ip_filter_check (JsonArray *list, guint *index, GError **error);
/* Would the filter object @filter ({"enabled", "mode", "addresses"}, already
 * checked) let @address in?  (A change of the filter that would shut out
 * the address making it is refused with this.) */
gboolean     tcd_ip_filter_allows (JsonNode *filter, const gchar *address);

/* The IP address filter: may @address (any family; IPv4-mapped IPv6 counts
 * as IPv4) talk to the device?  Call before reading anything from it. */
gboolean     tcd_security_address_allowed (TcdSecurity *s, GInetAddress *address);
gboolean     tcd_security_address_allowed_str (TcdSecurity *s, const gchar *address);

/* The key an address is counted under (the lock, connection bounds): an
 * IPv4 address (also as ::ffff:a.b.c.d) as itself, any other IPv6 address
 * as its /64 ("2001:db8:1:2::/64") */
gchar       *tcd_address_key (const gchar *address);
/* Whether the web/RTSP authentication mode accepts Basic ("digest/basic") */
gboolean     tcd_security_basic_allowed (TcdSecurity *s, const gchar *service);

/* The illegal login lock: is @address locked (and for how many more
 * seconds)?  An IPv4 address (also as ::ffff:a.b.c.d) is tracked and locked
 * as itself, any other IPv6 address as its /64. */
gboolean     tcd_security_is_locked (TcdSecurity *s, const gchar *address,
                                     gint64 *remaining_s);
/* A failed login from @address on @service ("http", "rtsp", "modbus", ...)
 * as @user (may be NULL): audited and counted for (@address, @user); returns
 * TRUE when a count reached the attempts and this failure locked the address
 * (the lock callback is called, with the IPv6 /64 as "a:b:c:d::/64", and an
 * audit record written) */
gboolean     tcd_security_login_failed (TcdSecurity *s, const gchar *address,
                                        const gchar *service, const gchar *user);
/* A good login: clears the failures of @user from @address, not those of
 * other names nor a lock (audited only when @audit, so that a Digest client
 * is not logged at every request) */
void         tcd_security_login_succeeded (TcdSecurity *s, const gchar *address,
                                           const gchar *service, const gchar *user,
                                           gboolean audit);

/* The security audit log (manual 10.12.2), persisted in the state directory
 * and rotated.  @type is one of: login, login_failed, lock, logout, config,
 * user, reboot, system, certificate, import, export; @user and @address may
 * be NULL. */
void         tcd_audit (TcdSecurity *s, const gchar *type, const gchar *user,
                        const gchar *address, const gchar *format, ...)
                        G_GNUC_PRINTF (5, 6);
/* Called with every record as it is made (before it is written), in the
 * thread that made it, outside the log's lock: the log server's delivery
 * (linkage/tcd-syslog.h).  @time_us: unix microseconds.  Set once, before
 * any record. */
typedef void (*TcdAuditTap) (gint64 time_us, const gchar *type, const gchar *user,
                             const gchar *address, const gchar *detail, gpointer user_data);
void         tcd_security_set_audit_tap (TcdSecurity *s, TcdAuditTap tap, gpointer user_data);
/* Writes the records waiting in memory for room on a full disk (also done
 * at the next record and every few seconds on the main context); TRUE when
 * none is left */
gboolean     tcd_audit_flush (TcdSecurity *s);
/* Records waiting in memory, records lost since the start (past the
 * memory bound while nothing could be written), and the bytes of disk
 * space still reserved for the log */
void         tcd_audit_status (TcdSecurity *s, guint *queued, guint64 *lost,
                               gsize *reserve);
/* For tests: the bytes reserved for the log on a full disk (the reserve is
 * made again at this size) and the most records kept in memory */
void         tcd_audit_set_limits (TcdSecurity *s, gsize reserve_bytes, guint max_queued);
/* The records of @type (NULL: all) with time in [from, to] (unix seconds;
 * 0: open), oldest first (those waiting in memory last): a JSON array of {time, type, user, address,
 * detail} */
JsonNode    *tcd_audit_query (TcdSecurity *s, const gchar *type, gint64 from, gint64 to);

G_END_DECLS
