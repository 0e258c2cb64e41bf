/* thermocamd: IP address filter, illegal login lock, security audit log
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The audit log is JSON lines in <state>/audit.log, one record per line,
 * appended and flushed to disk as it happens; at AUDIT_MAX bytes it is
 * rotated to audit.log.1 .. audit.log.<AUDIT_KEEP>.  Records never hold a
 * secret: the callers pass names, addresses and what changed.
 *
 * A full disk does not lose records.  <state>/audit.reserve holds
 * AUDIT_RESERVE bytes allocated at start; a write that fails for want of
 * space shrinks it by a slice (1/16) and is tried again, so that the log
 * goes on while the rest of the device finds the disk full (the others get
 * at most the slice the log is filling).  When even that fails, records
 * wait in memory (at most AUDIT_QUEUE_MAX, in order) and are written, oldest
 * first, as soon as space returns: before any later record, at the next
 * record or within AUDIT_RETRY_S.  Records past the queue's bound are
 * counted as lost (tcd_audit_status, diagnostics) and the gap is itself
 * recorded when the queue drains.  The reserve is made again once the queue
 * is empty and there is room.
 */
#include "tcd-security.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tc-json.h"

#define AUDIT_MAX (512 * 1024)
#define AUDIT_KEEP 4
#define AUDIT_RESERVE (256 * 1024)  /* bytes kept for the log on a full disk */
#define AUDIT_QUEUE_MAX 2048        /* records held in memory while nothing can be written */
#define AUDIT_RETRY_S 5             /* a waiting queue is tried this often */
#define AUDIT_RESERVE_RETRY_US (30 * G_USEC_PER_SEC)
#define MAX_TRACKED 4096          /* addresses with failed logins remembered */
#define MAX_NAMES 8               /* user names counted apart per address */
#define MAX_NAME_LEN 32           /* no account name is longer: these count as no name */
#define LOGIN_AUDIT_WINDOW_US (30 * 60 * G_USEC_PER_SEC)
#define LOGIN_AUDIT_REPEAT_US (60 * G_USEC_PER_SEC)
#define MAX_GOOD 1024             /* addresses with a good login remembered */
#define GOOD_FOR_US (G_GINT64_CONSTANT (24 * 3600) * G_USEC_PER_SEC)

/* addresses as 16 bytes, network order (IPv4 as ::ffff:a.b.c.d), so that
 * one comparison covers both families */
typedef struct {
  guint8 first[16], last[16];   /* inclusive */
} Range;

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
  GMutex lock;
  gchar *audit_path;
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
};

static void
tracked_free (Tracked *t)
{
  g_hash_table_unref (t->names);
  g_free (t);
}

/* ---- address lists (manual 10.12.3 speaks of IPv4; IPv6 entries are
 * taken too, so that an allow list can let IPv6 clients in) ---- */

static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static gboolean
parse_ipv4 (const gchar *s, guint8 out[16])
{
  guint v[4];
  gchar tail;

  if (sscanf (s, "%3u.%3u.%3u.%3u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4)
    return FALSE;
  for (guint i = 0; i < 4; i++)
    if (v[i] > 255)
      return FALSE;
  memcpy (out, v4_mapped, 12);
  for (guint i = 0; i < 4; i++)
    out[12 + i] = v[i];
  return TRUE;
}

/* an address of either family as 16 bytes; *bits is its prefix length
 * (32 or 128) */
static gboolean
parse_address (const gchar *s, guint8 out[16], guint *bits)
{
  g_autoptr (GInetAddress) a = NULL;

  if (parse_ipv4 (s, out)) {
    *bits = 32;
    return TRUE;
  }
  if (!strchr (s, ':') || strchr (s, '%') || !(a = g_inet_address_new_from_string (s))
      || g_inet_address_get_family (a) != G_SOCKET_FAMILY_IPV6)
    return FALSE;
  memcpy (out, g_inet_address_to_bytes (a), 16);
  *bits = memcmp (out, v4_mapped, 12) == 0 ? 32 : 128;
  return TRUE;
}

/* "a.b.c.d", "a.b.c.d/n", "a.b.c.d-e.f.g.h", or the same with IPv6
 * addresses ("2001:db8::/32") */
static gboolean
parse_entry (const gchar *s, Range *r, GError **error)
{
  g_auto (GStrv) parts = NULL;
  guint bits, bits2;

  if (!s) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "not an address");
    return FALSE;
  }
  if (strchr (s, '/')) {
    guint64 n;
    gchar *end;
    guint host;

    parts = g_strsplit (s, "/", 2);
    n = g_ascii_strtoull (parts[1], &end, 10);
    if (!parse_address (parts[0], r->first, &bits) || *end || end == parts[1] || n > bits) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "'%s' is not a network (a.b.c.d/0..32 or an IPv6 address/0..128)", s);
      return FALSE;
    }
    host = bits - (guint) n;      /* the bits that vary, from the end */
    memcpy (r->last, r->first, 16);
    for (guint b = 0; b < host; b++) {
      guint byte = 15 - b / 8, bit = b % 8;
      r->first[byte] &= ~(1u << bit);
      r->last[byte] |= 1u << bit;
    }
    return TRUE;
  }
  if (strchr (s, '-')) {
    parts = g_strsplit (s, "-", 2);
    if (!parse_address (parts[0], r->first, &bits) || !parse_address (parts[1], r->last, &bits2)
        || bits != bits2 || memcmp (r->first, r->last, 16) > 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
          "'%s' is not a range (lowest-highest, of one family)", s);
      return FALSE;
    }
    return TRUE;
  }
  if (!parse_address (s, r->first, &bits)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "'%s' is not an IPv4 or IPv6 address", s);
    return FALSE;
  }
  memcpy (r->last, r->first, 16);
  return TRUE;
}

/* may @address (16 bytes) pass a filter of @ranges in that mode? */
static gboolean
ranges_allow (GArray *ranges, gboolean allow_mode, const guint8 address[16])
{
  gboolean listed = FALSE;

  for (guint i = 0; i < ranges->len && !listed; i++) {
    const Range *r = &g_array_index (ranges, Range, i);
    listed = memcmp (address, r->first, 16) >= 0 && memcmp (address, r->last, 16) <= 0;
  }
  return allow_mode ? listed : !listed;
}

/* @address as 16 bytes (an IPv4 one as ::ffff:a.b.c.d) */
static void
address_bytes (GInetAddress *address, guint8 out[16])
{
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4) {
    memcpy (out, v4_mapped, 12);
    memcpy (out + 12, g_inet_address_to_bytes (address), 4);
  } else {
    memcpy (out, g_inet_address_to_bytes (address), 16);
  }
}

gboolean
tcd_ip_filter_check (JsonArray *list, guint *index, GError **error)
{
  for (guint i = 0; list && i < json_array_get_length (list); i++) {
    Range r;
    if (!parse_entry (tc_json_array_get_string (list, i), &r, error)) {
      if (index)
        *index = i;
      return FALSE;
    }
  }
  return TRUE;
}

/* ---- life ---- */

static void reserve_make (TcdSecurity *s);

TcdSecurity *
tcd_security_new (const gchar *state_dir)
{
  TcdSecurity *s = g_new0 (TcdSecurity, 1);
  GStatBuf st;

  g_mutex_init (&s->lock);
  s->audit_path = g_build_filename (state_dir, "audit.log", NULL);
  s->audit_fd = -1;
  s->reserve_path = g_build_filename (state_dir, "audit.reserve", NULL);
  s->reserve_size = AUDIT_RESERVE;
  s->pending_max = AUDIT_QUEUE_MAX;
  g_queue_init (&s->pending);
  s->ranges = g_array_new (FALSE, FALSE, sizeof (Range));
  s->lock_on = TRUE;
  s->attempts = 5;
  s->duration_min = 30;
  s->minute_s = 60;
  s->tracked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) tracked_free);
  s->overflow.names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->good = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  s->logins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (g_stat (s->audit_path, &st) == 0)
    s->audit_size = st.st_size;
  reserve_make (s);
  return s;
}

void
tcd_security_free (TcdSecurity *s)
{
  if (!s)
    return;
  if (s->retry) {
    g_source_destroy (s->retry);
    g_source_unref (s->retry);
  }
  if (s->audit_fd >= 0)
    close (s->audit_fd);
  if (s->pending.length)
    g_warning ("audit log %s: %u records could not be written (the disk is full)",
        s->audit_path, s->pending.length);
  g_queue_clear_full (&s->pending, g_free);
  g_free (s->audit_path);
  g_free (s->reserve_path);
  g_array_unref (s->ranges);
  g_hash_table_unref (s->tracked);
  g_hash_table_unref (s->overflow.names);
  g_hash_table_unref (s->good);
  g_hash_table_unref (s->logins);
  g_mutex_clear (&s->lock);
  g_free (s);
}

void
tcd_security_set_lock_callback (TcdSecurity *s, TcdSecurityLockFunc func, gpointer user_data)
{
  s->on_lock = func;
  s->on_lock_data = user_data;
}

void
tcd_security_set_minute (TcdSecurity *s, guint seconds)
{
  g_mutex_lock (&s->lock);
  s->minute_s = MAX (1, seconds);
  g_mutex_unlock (&s->lock);
}

static const gchar *
member_string (JsonObject *o, const gchar *name, const gchar *def)
{
  return o && json_object_has_member (o, name) ? tc_json_get_string (o, name, NULL) : def;
}

static gint64
member_int (JsonObject *o, const gchar *name, gint64 def)
{
  return o && json_object_has_member (o, name) ? tc_json_get_int (o, name, 0) : def;
}

static gboolean
member_bool (JsonObject *o, const gchar *name, gboolean def)
{
  return o && json_object_has_member (o, name) ? tc_json_get_bool (o, name, FALSE) : def;
}

static JsonObject *
member_object (JsonObject *o, const gchar *name)
{
  return o && json_object_has_member (o, name) ? tc_json_get_object (o, name) : NULL;
}

void
tcd_security_configure (TcdSecurity *s, JsonNode *section)
{
  JsonObject *o = section && JSON_NODE_HOLDS_OBJECT (section)
      ? json_node_get_object (section) : NULL;
  JsonObject *auth = member_object (o, "authentication");
  JsonObject *lock = member_object (o, "illegal_login_lock");
  JsonObject *filter = member_object (o, "ip_filter");
  JsonArray *list = filter && json_object_has_member (filter, "addresses")
      ? tc_json_get_array (filter, "addresses") : NULL;

  g_mutex_lock (&s->lock);
  s->basic_web = g_strcmp0 (member_string (auth, "web", "digest"), "digest/basic") == 0;
  s->basic_rtsp = g_strcmp0 (member_string (auth, "rtsp", "digest"), "digest/basic") == 0;
  s->lock_on = member_bool (lock, "enabled", TRUE);
  s->attempts = member_int (lock, "attempts", 5);
  s->duration_min = member_int (lock, "duration_min", 30);
  if (!s->lock_on)
    g_hash_table_remove_all (s->tracked);
  s->filter_on = member_bool (filter, "enabled", FALSE);
  s->filter_allow = g_strcmp0 (member_string (filter, "mode", "deny"), "allow") == 0;
  g_array_set_size (s->ranges, 0);
  for (guint i = 0; list && i < json_array_get_length (list); i++) {
    Range r;
    /* validated before it got here */
    if (parse_entry (tc_json_array_get_string (list, i), &r, NULL))
      g_array_append_val (s->ranges, r);
  }
  g_mutex_unlock (&s->lock);
}

/* ---- the filter ---- */

gboolean
tcd_security_address_allowed (TcdSecurity *s, GInetAddress *address)
{
  gboolean allowed;
  guint8 a[16];

  if (!address)
    return FALSE;
  address_bytes (address, a);
  g_mutex_lock (&s->lock);
  allowed = !s->filter_on || ranges_allow (s->ranges, s->filter_allow, a);
  g_mutex_unlock (&s->lock);
  return allowed;
}

gboolean
tcd_ip_filter_allows (JsonNode *filter, const gchar *address)
{
  JsonObject *o = filter && JSON_NODE_HOLDS_OBJECT (filter) ? json_node_get_object (filter) : NULL;
  JsonArray *list = tc_json_get_array (o, "addresses");
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (Range));
  g_autofree gchar *host = g_strdup (address);
  g_autoptr (GInetAddress) a = NULL;
  gchar *zone = host ? strchr (host, '%') : NULL;
  guint8 b[16];

  if (!tc_json_get_bool (o, "enabled", FALSE))
    return TRUE;
  if (zone)
    *zone = '\0';
  if (!host || !(a = g_inet_address_new_from_string (host)))
    return FALSE;
  for (guint i = 0; list && i < json_array_get_length (list); i++) {
    Range r;
    if (parse_entry (tc_json_array_get_string (list, i), &r, NULL))
      g_array_append_val (ranges, r);
  }
  address_bytes (a, b);
  return ranges_allow (ranges, g_strcmp0 (tc_json_get_string (o, "mode", "deny"), "allow") == 0,
      b);
}

gboolean
tcd_security_address_allowed_str (TcdSecurity *s, const gchar *address)
{
  g_autoptr (GInetAddress) a = address ? g_inet_address_new_from_string (address) : NULL;
  return tcd_security_address_allowed (s, a);
}

gboolean
tcd_security_basic_allowed (TcdSecurity *s, const gchar *service)
{
  gboolean r;

  g_mutex_lock (&s->lock);
  r = g_strcmp0 (service, "rtsp") == 0 ? s->basic_rtsp : s->basic_web;
  g_mutex_unlock (&s->lock);
  return r;
}

/* ---- the lock ---- */

/* The key an address is tracked under: IPv4 (also as ::ffff:a.b.c.d) as
 * itself, other IPv6 as its /64 (one host may hold a whole /64), anything
 * else as given */
static gchar *
tracking_key (const gchar *address)
{
  static const guint8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
  g_autofree gchar *host = g_strdup (address);
  g_autoptr (GInetAddress) a = NULL, net = NULL;
  g_autofree gchar *prefix = NULL;
  gchar *zone = strchr (host, '%');
  guint8 b[16];

  if (zone)
    *zone = '\0';               /* fe80::1%eth0 */
  a = g_inet_address_new_from_string (host);
  if (!a)
    return g_strdup (address);
  if (g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4)
    return g_inet_address_to_string (a);
  memcpy (b, g_inet_address_to_bytes (a), 16);
  if (memcmp (b, mapped, 12) == 0)
    return g_strdup_printf ("%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
  memset (b + 8, 0, 8);
  net = g_inet_address_new_from_bytes (b, G_SOCKET_FAMILY_IPV6);
  prefix = g_inet_address_to_string (net);
  return g_strdup_printf ("%s/64", prefix);
}

gchar *
tcd_address_key (const gchar *address)
{
  return tracking_key (address ? address : "");
}

/* the name failures are counted under */
static const gchar *
name_key (const gchar *user)
{
  return user && strlen (user) <= MAX_NAME_LEN ? user : "";
}

/* with the mutex held */
static Tracked *
tracked_get (TcdSecurity *s, const gchar *key, gint64 now)
{
  Tracked *t = g_hash_table_lookup (s->tracked, key);

  if (t && t->locked_until && now >= t->locked_until) {
    /* the lock has run out: a fresh start */
    t->locked_until = 0;
    g_hash_table_remove_all (t->names);
  }
  return t;
}

/* whether @key logged in well in the last GOOD_FOR_US */
static gboolean
recently_good (TcdSecurity *s, const gchar *key, gint64 now)
{
  gint64 *when = g_hash_table_lookup (s->good, key);
  return when && now - *when < GOOD_FOR_US;
}

/* an address without an entry while the table is full (of running locks):
 * it shares one entry with every other such address, so that a flood of
 * new addresses still locks (all of them) instead of guessing freely.  An
 * address that logged in well in the last day is not shut out by that
 * shared lock (a flood of locks from 4096 addresses would otherwise lock
 * the administrator out of the usual workstation): its own failures still
 * lock it. */
static Tracked *
overflow_get (TcdSecurity *s, gint64 now)
{
  if (g_hash_table_size (s->tracked) < MAX_TRACKED && !s->overflow.locked_until)
    return NULL;
  if (s->overflow.locked_until && now >= s->overflow.locked_until) {
    s->overflow.locked_until = 0;
    g_hash_table_remove_all (s->overflow.names);
  }
  return &s->overflow;
}

gboolean
tcd_security_is_locked (TcdSecurity *s, const gchar *address, gint64 *remaining_s)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree gchar *key = NULL;
  Tracked *t;
  gboolean locked = FALSE;

  if (!address)
    return FALSE;
  key = tracking_key (address);
  g_mutex_lock (&s->lock);
  t = s->lock_on ? tracked_get (s, key, now) : NULL;
  if (s->lock_on && !t && !recently_good (s, key, now))
    t = overflow_get (s, now);
  if (t && t->locked_until) {
    locked = TRUE;
    if (remaining_s)
      *remaining_s = (t->locked_until - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
  }
  g_mutex_unlock (&s->lock);
  return locked;
}

typedef struct {
  TcdSecurity *s;
  gchar *address, *service, *user;
  guint minutes;
} LockCall;

static gboolean
lock_call (gpointer data)
{
  LockCall *c = data;
  if (c->s->on_lock)
    c->s->on_lock (c->address, c->service, c->user, c->minutes, c->s->on_lock_data);
  g_free (c->address);
  g_free (c->service);
  g_free (c->user);
  g_free (c);
  return G_SOURCE_REMOVE;
}

/* With the mutex held, the table full: makes room for one more address.
 * Locks that ran out go, else the unlocked address whose last failure is
 * the oldest.  A lock is never dropped while it lasts: when all are locked,
 * there is no room (FALSE) and a new address is not tracked until a lock
 * runs out. */
static gboolean
prune_tracked (TcdSecurity *s, gint64 now)
{
  GHashTableIter it;
  Tracked *t;
  gpointer oldest = NULL;
  guint64 oldest_t = G_MAXUINT64;
  const gchar *key;

  g_hash_table_iter_init (&it, s->tracked);
  while (g_hash_table_iter_next (&it, (gpointer *) & key, (gpointer *) & t)) {
    if (t->locked_until && now >= t->locked_until) {
      g_hash_table_iter_remove (&it);
    } else if (!t->locked_until && t->last_failure < oldest_t) {
      oldest_t = t->last_failure;
      oldest = (gpointer) key;
    }
  }
  if (g_hash_table_size (s->tracked) < MAX_TRACKED)
    return TRUE;
  if (!oldest)
    return FALSE;
  g_hash_table_remove (s->tracked, oldest);
  return TRUE;
}

gboolean
tcd_security_login_failed (TcdSecurity *s, const gchar *address, const gchar *service,
    const gchar *user)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree gchar *key = NULL;
  Tracked *t;
  gboolean locked_now = FALSE;
  guint minutes = 0, failures = 0;

  if (!address)
    address = "unknown";
  key = tracking_key (address);
  g_mutex_lock (&s->lock);
  if (s->lock_on) {
    t = tracked_get (s, key, now);
    if (!t && (g_hash_table_size (s->tracked) < MAX_TRACKED || prune_tracked (s, now))) {
      t = g_new0 (Tracked, 1);
      t->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (s->tracked, g_strdup (key), t);
    }
    if (!t)
      t = overflow_get (s, now);
    if (t && !t->locked_until) {
      const gchar *name = name_key (user);

      /* past MAX_NAMES names, new ones share the count of no name */
      if (!g_hash_table_contains (t->names, name)
          && g_hash_table_size (t->names) >= MAX_NAMES)
        name = "";
      failures = GPOINTER_TO_UINT (g_hash_table_lookup (t->names, name)) + 1;
      g_hash_table_replace (t->names, g_strdup (name), GUINT_TO_POINTER (failures));
      t->last_failure = ++s->failures;
      if (failures >= s->attempts) {
        t->locked_until = now + (gint64) s->duration_min * s->minute_s * G_USEC_PER_SEC;
        /* the counts start again when the lock runs out */
        g_hash_table_remove_all (t->names);
        locked_now = TRUE;
        minutes = s->duration_min;
      }
    }
  }
  g_mutex_unlock (&s->lock);

  if (failures)
    tcd_audit (s, "login_failed", user, address, "failed login on %s (%u in a row)",
        service, failures);
  else
    tcd_audit (s, "login_failed", user, address, "failed login on %s", service);
  if (locked_now) {
    LockCall *c = g_new0 (LockCall, 1);
    tcd_audit (s, "lock", user, key, "locked for %u min after %u failed logins (%s)",
        minutes, failures, service);
    c->s = s;
    c->address = g_steal_pointer (&key);
    c->service = g_strdup (service);
    c->user = g_strdup (user);
    c->minutes = minutes;
    g_main_context_invoke (NULL, lock_call, c);
  }
  return locked_now;
}

void
tcd_security_login_succeeded (TcdSecurity *s, const gchar *address, const gchar *service,
    const gchar *user, gboolean audit)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree gchar *key = g_strdup_printf ("%s %s %s", service, user, address);
  g_autofree gchar *tkey = tracking_key (address ? address : "unknown");
  Tracked *t;
  gint64 *last;

  g_mutex_lock (&s->lock);
  /* only this user's count: a good login as one account says nothing of
   * guesses at another, and a lock stays */
  t = tracked_get (s, tkey, now);
  if (t && !t->locked_until) {
    g_hash_table_remove (t->names, name_key (user));
    if (g_hash_table_size (t->names) == 0)
      g_hash_table_remove (s->tracked, tkey);
  }
  if (!g_hash_table_contains (s->good, tkey) && g_hash_table_size (s->good) >= MAX_GOOD) {
    /* the oldest good address goes */
    GHashTableIter it;
    gpointer k, v, oldest = NULL;
    gint64 t0 = G_MAXINT64;
    g_hash_table_iter_init (&it, s->good);
    while (g_hash_table_iter_next (&it, &k, &v))
      if (*(gint64 *) v < t0) {
        t0 = *(gint64 *) v;
        oldest = k;
      }
    g_hash_table_remove (s->good, oldest);
  }
  {
    gint64 *when = g_new (gint64, 1);
    *when = now;
    g_hash_table_replace (s->good, g_strdup (tkey), when);
  }
  last = g_hash_table_lookup (s->logins, key);
  if (!audit && (!last || now - *last > LOGIN_AUDIT_WINDOW_US))
    audit = TRUE;
  /* a login asked to be audited (a browser session) is written at most once
   * a minute per account and address: an account logging in again and
   * again cannot rotate the older records out of the log */
  else if (audit && last && now - *last < LOGIN_AUDIT_REPEAT_US)
    audit = FALSE;
  if (audit) {
    if (g_hash_table_size (s->logins) > MAX_TRACKED)
      g_hash_table_remove_all (s->logins);
    last = g_new (gint64, 1);
    *last = now;
    g_hash_table_replace (s->logins, g_steal_pointer (&key), last);
  }
  g_mutex_unlock (&s->lock);
  if (audit)
    tcd_audit (s, "login", user, address, "login on %s", service);
}

/* ---- the audit log ---- */

/* with the mutex held, or at start: the reserve file back to its size */
static void
reserve_make (TcdSecurity *s)
{
  GStatBuf st;
  gint fd;

  s->reserve_next_try = g_get_monotonic_time () + AUDIT_RESERVE_RETRY_US;
  if (s->reserve_size == 0) {
    g_unlink (s->reserve_path);
    s->reserve_held = 0;
    return;
  }
  /* blocks the file really holds (a sparse file would keep nothing) */
  if (g_stat (s->reserve_path, &st) == 0 && (gsize) st.st_size == s->reserve_size
      && (gsize) st.st_blocks * 512 >= s->reserve_size) {
    s->reserve_held = s->reserve_size;
    return;
  }
  fd = g_open (s->reserve_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  if (fstat (fd, &st) == 0) {
    /* what it holds already (a reserve given back in part before a restart) */
    s->reserve_held = MIN ((gsize) st.st_size, (gsize) st.st_blocks * 512);
    s->reserve_held = MIN (s->reserve_held, s->reserve_size);
    if ((gsize) st.st_size > s->reserve_size && ftruncate (fd, s->reserve_size) != 0)
      g_warning ("audit reserve %s: %s", s->reserve_path, g_strerror (errno));
  }
  if (posix_fallocate (fd, 0, s->reserve_size) == 0 && fsync (fd) == 0) {
    s->reserve_held = s->reserve_size;
  } else if (fstat (fd, &st) == 0) {
    /* no room for all of it: what it had stays, nothing more */
    if ((gsize) st.st_size > s->reserve_held && ftruncate (fd, s->reserve_held) != 0)
      g_warning ("audit reserve %s: %s", s->reserve_path, g_strerror (errno));
  }
  close (fd);
}

/* with the mutex held: a slice of the reserve back to the disk for the log;
 * FALSE when nothing is left */
static gboolean
reserve_release (TcdSecurity *s)
{
  gsize slice = MAX (4096, s->reserve_size / 16);

  if (!s->reserve_held)
    return FALSE;
  s->reserve_held = s->reserve_held > slice ? s->reserve_held - slice : 0;
  if (s->reserve_held ? truncate (s->reserve_path, s->reserve_held) != 0
      : g_unlink (s->reserve_path) != 0) {
    g_warning ("audit reserve %s: %s", s->reserve_path, g_strerror (errno));
    s->reserve_held = 0;
    return FALSE;
  }
  s->reserve_next_try = g_get_monotonic_time () + AUDIT_RESERVE_RETRY_US;
  return TRUE;
}

/* with the mutex held */
static void
audit_rotate (TcdSecurity *s)
{
  if (s->audit_fd >= 0) {
    close (s->audit_fd);
    s->audit_fd = -1;
  }
  for (gint i = AUDIT_KEEP - 1; i >= 0; i--) {
    g_autofree gchar *from = i ? g_strdup_printf ("%s.%d", s->audit_path, i)
        : g_strdup (s->audit_path);
    g_autofree gchar *to = g_strdup_printf ("%s.%d", s->audit_path, i + 1);
    if (i == AUDIT_KEEP - 1)
      g_unlink (from);
    else
      g_rename (from, to);
  }
  s->audit_size = 0;
}

/* With the mutex held: appends @line (ending in a newline) and has it on
 * the disk, or leaves the file as it was and returns the errno */
static gint
audit_append (TcdSecurity *s, const gchar *line, gsize len)
{
  g_autofree gchar *torn_line = NULL;
  off_t end;
  gsize done = 0;
  gint err = 0;

  if (s->audit_size > AUDIT_MAX)
    audit_rotate (s);
  if (s->audit_fd < 0) {
    s->audit_fd = g_open (s->audit_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (s->audit_fd < 0)
      return errno;
    fchmod (s->audit_fd, 0600);
    end = lseek (s->audit_fd, 0, SEEK_END);
    s->audit_size = end > 0 ? end : 0;
    /* a record torn by a crash: the next one starts on a new line */
    {
      gchar last = '\n';
      s->torn = end > 0 && pread (s->audit_fd, &last, 1, end - 1) == 1 && last != '\n';
    }
  }
  if (s->torn) {
    torn_line = g_strconcat ("\n", line, NULL);
    line = torn_line;
    len++;
  }
  end = lseek (s->audit_fd, 0, SEEK_END);
  while (done < len) {
    gssize n = write (s->audit_fd, line + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    done += n;
  }
  /* a record is on the disk before whatever it tells about goes on */
  if (!err && fdatasync (s->audit_fd) != 0)
    err = errno;
  if (err) {
    /* no torn record: what got written of it goes */
    if (end >= 0 && ftruncate (s->audit_fd, end) != 0)
      g_warning ("audit log %s: %s", s->audit_path, g_strerror (errno));
    return err;
  }
  s->audit_size += len;
  s->torn = FALSE;
  return 0;
}

/* With the mutex held: appends @line, freeing the reserve when the disk is
 * full */
static gboolean
audit_write (TcdSecurity *s, const gchar *line)
{
  gsize len = strlen (line);
  gint err = audit_append (s, line, len);

  /* a slice of the reserve at a time (another writer may take one too) */
  for (guint tries = 0; (err == ENOSPC || err == EDQUOT) && tries < 4; tries++) {
    if (s->reserve_held == s->reserve_size)
      g_warning ("audit log %s: the disk is full, using the reserved space", s->audit_path);
    if (!reserve_release (s))
      break;
    err = audit_append (s, line, len);
  }
  if (err && !s->warned) {
    g_warning ("audit log %s: %s; records are kept in memory until they can be written",
        s->audit_path, g_strerror (err));
    s->warned = TRUE;
  }
  return err == 0;
}

static gchar *
audit_line (const gchar *type, const gchar *user, const gchar *address, const gchar *detail)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *time = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree gchar *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, time);
  json_builder_set_member_name (b, "t");
  json_builder_add_int_value (b, g_date_time_to_unix (now));
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "user");
  if (user)
    json_builder_add_string_value (b, user);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "address");
  if (address)
    json_builder_add_string_value (b, address);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "detail");
  json_builder_add_string_value (b, detail);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  return g_strconcat (text, "\n", NULL);
}

/* With the mutex held: writes the waiting lines, oldest first, as far as
 * they go; TRUE when none is left */
static gboolean
audit_flush_locked (TcdSecurity *s)
{
  gchar *line;

  while ((line = g_queue_peek_head (&s->pending))) {
    if (!audit_write (s, line))
      return FALSE;
    g_free (g_queue_pop_head (&s->pending));
  }
  if (s->lost_unrecorded) {
    g_autofree gchar *detail = g_strdup_printf ("%" G_GUINT64_FORMAT
        " audit records were lost while the disk was full", s->lost_unrecorded);
    g_autofree gchar *gap = audit_line ("system", NULL, NULL, detail);
    if (!audit_write (s, gap))
      return FALSE;
    s->lost_unrecorded = 0;
  }
  if (s->warned) {
    g_message ("audit log %s: the records kept in memory are written", s->audit_path);
    s->warned = FALSE;
  }
  if (s->reserve_held < s->reserve_size
      && g_get_monotonic_time () >= s->reserve_next_try)
    reserve_make (s);
  return TRUE;
}

static gboolean
audit_retry (gpointer data)
{
  TcdSecurity *s = data;
  gboolean left;

  g_mutex_lock (&s->lock);
  left = !audit_flush_locked (s);
  if (!left) {
    g_source_unref (s->retry);
    s->retry = NULL;
  }
  g_mutex_unlock (&s->lock);
  return left ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

gboolean
tcd_audit_flush (TcdSecurity *s)
{
  gboolean done;

  g_mutex_lock (&s->lock);
  done = audit_flush_locked (s);
  g_mutex_unlock (&s->lock);
  return done;
}

void
tcd_audit (TcdSecurity *s, const gchar *type, const gchar *user, const gchar *address,
    const gchar *format, ...)
{
  g_autofree gchar *detail = NULL, *line = NULL;
  va_list ap;

  if (!s)
    return;
  va_start (ap, format);
  detail = g_strdup_vprintf (format, ap);
  va_end (ap);
  line = audit_line (type, user, address, detail);

  g_mutex_lock (&s->lock);
  /* in order: the waiting ones first */
  if (audit_flush_locked (s) && audit_write (s, line)) {
    g_mutex_unlock (&s->lock);
    return;
  }
  if (s->pending.length < s->pending_max) {
    g_queue_push_tail (&s->pending, g_steal_pointer (&line));
  } else {
    s->lost++;
    s->lost_unrecorded++;
  }
  if (!s->retry) {
    s->retry = g_timeout_source_new_seconds (AUDIT_RETRY_S);
    g_source_set_callback (s->retry, audit_retry, s, NULL);
    g_source_attach (s->retry, NULL);
  }
  g_mutex_unlock (&s->lock);
}

void
tcd_audit_status (TcdSecurity *s, guint *queued, guint64 *lost, gsize *reserve)
{
  g_mutex_lock (&s->lock);
  if (queued)
    *queued = s->pending.length;
  if (lost)
    *lost = s->lost;
  if (reserve)
    *reserve = s->reserve_held;
  g_mutex_unlock (&s->lock);
}

void
tcd_audit_set_limits (TcdSecurity *s, gsize reserve_bytes, guint max_queued)
{
  g_mutex_lock (&s->lock);
  s->reserve_size = reserve_bytes;
  s->pending_max = max_queued;
  reserve_make (s);
  g_mutex_unlock (&s->lock);
}

/* one record (a line of the log, a torn one is skipped) into @out if it matches */
static void
audit_read_line (const gchar *line, const gchar *type, gint64 from, gint64 to, JsonArray *out)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o;
  gint64 when;

  if (!*line || !(root = tc_json_parse (line, -1, 4, NULL)) || !JSON_NODE_HOLDS_OBJECT (root))
    return;                     /* a torn last line after a crash */
  o = json_node_get_object (root);
  when = tc_json_get_int (o, "t", 0);
  if ((from && when < from) || (to && when > to))
    return;
  if (type && g_strcmp0 (tc_json_get_string (o, "type", ""), type) != 0)
    return;
  json_array_add_element (out, json_node_ref (root));
}

static void
audit_read_file (const gchar *path, const gchar *type, gint64 from, gint64 to,
    JsonArray *out)
{
  g_autofree gchar *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    audit_read_line (lines[i], type, from, to, out);
}

JsonNode *
tcd_audit_query (TcdSecurity *s, const gchar *type, gint64 from, gint64 to)
{
  JsonArray *out = json_array_new ();
  JsonNode *n = json_node_new (JSON_NODE_ARRAY);

  g_mutex_lock (&s->lock);
  for (gint i = AUDIT_KEEP; i >= 0; i--) {
    g_autofree gchar *path = i ? g_strdup_printf ("%s.%d", s->audit_path, i)
        : g_strdup (s->audit_path);
    audit_read_file (path, type, from, to, out);
  }
  /* and those still waiting for room on the disk */
  for (GList *l = s->pending.head; l; l = l->next)
    audit_read_line (l->data, type, from, to, out);
  g_mutex_unlock (&s->lock);
  json_node_take_array (n, out);
  return n;
}
