/* thermocamd: IP address filter and illegal login lock
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The security audit log, written through the same object, is
 * tcd-security-audit.c; what the two share: tcd-security-private.h.
 */
#include "tcd-security-private.h"

#include <stdio.h>
#include <string.h>

#include "tc-json.h"

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

TcdSecurity *
tcd_security_new (const gchar *state_dir)
{
  TcdSecurity *s = g_new0 (TcdSecurity, 1);

  g_mutex_init (&s->lock);
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
  tcd_security_audit_init (s, state_dir);
  return s;
}

void
tcd_security_free (TcdSecurity *s)
{
  if (!s)
    return;
  tcd_security_audit_clear (s);
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
tcd_security_set_audit_callback (TcdSecurity *s, TcdAuditFunc func, gpointer user_data)
{
  s->on_audit = func;
  s->on_audit_data = user_data;
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
