/* thermocamd: the RS-232 port (manual 10.9)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The section `serial` names a serial device (/dev/ttyS0; empty: none) and
 * its line settings: baud rate, data bits, stop bits, parity, flow control
 * (none, software XON/XOFF, hardware RTS/CTS), applied with termios as soon
 * as the section changes (the device reopened only when its path changes),
 * and its use: a maintenance console or a transparent channel (both in
 * services/serial).  The change path's check refuses a device that does not
 * exist or is not a terminal (serial.device), and the one the RS-485
 * section uses.
 *
 * The port reads on the main loop and hands the bytes to one reader; what
 * is written waits in a bounded queue (TCD_RS232_QUEUE bytes) until the line
 * takes it.  A device that fails (gone, hung up) is closed and opened again
 * every few seconds.  Main loop only.
 */
#pragma once

#include "tcd-change.h"

G_BEGIN_DECLS

#define TCD_RS232_QUEUE (64 * 1024)

typedef struct _TcdRs232 TcdRs232;

/* @len bytes came in on the line */
typedef void (*TcdRs232ReadFunc) (const guint8 *data, gsize len, gpointer user_data);
/* the line's queue has room again / the port opened, closed or its use changed */
typedef void (*TcdRs232NotifyFunc) (gpointer user_data);

TcdRs232   *tcd_rs232_new (void);
void        tcd_rs232_free (TcdRs232 *p);
/* a TcdChangeCheck of the section `serial` */
gboolean    tcd_rs232_check (JsonNode *doc, JsonNode *current, const TcdOrigin *origin,
                             gpointer user_data, GError **error);
/* the section `serial` of @doc, live */
void        tcd_rs232_apply (TcdRs232 *p, JsonNode *doc);
void        tcd_rs232_set_funcs (TcdRs232 *p, TcdRs232ReadFunc on_read,
                                 TcdRs232NotifyFunc on_room, TcdRs232NotifyFunc on_state,
                                 gpointer user_data);
gboolean    tcd_rs232_is_open (TcdRs232 *p);
/* "console" or "transparent" */
const gchar *tcd_rs232_use (TcdRs232 *p);
const gchar *tcd_rs232_device (TcdRs232 *p);
/* "19200 8N1 none" */
gchar      *tcd_rs232_describe (TcdRs232 *p);
/* Queues what fits of @data; returns how many bytes were taken (0 while
 * closed: counted as dropped) */
gsize       tcd_rs232_write (TcdRs232 *p, const guint8 *data, gsize len);
gsize       tcd_rs232_room (TcdRs232 *p);
/* bytes that came in with no reader to take them (the reader tells) */
void        tcd_rs232_count_dropped (TcdRs232 *p, gsize n);
/* {"device", "open", "error", "use", "settings" (as configured), "line" (as
 *  the driver took them, read back; null while closed), "bytes_in",
 *  "bytes_out", "dropped", "queued", "opened"} */
JsonNode   *tcd_rs232_status (TcdRs232 *p);

G_END_DECLS
