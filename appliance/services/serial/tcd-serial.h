/* thermocamd: the RS-232 port's uses (manual 10.9): a maintenance console
 * and a transparent channel
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The port itself (device, termios, its queue) is linkage/tcd-rs232; this
 * service gives it to one of two users, as serial.use says:
 *
 * console       a line-based maintenance console on the line (CR or LF
 *               ends a line; at most 256 characters; the console echoes
 *               what is typed, never a password).  Read-only commands
 *               (help, version, status, time, temperatures, port) need no
 *               account; those that act (ffc, reboot) need `login` first
 *               with an operator or administrator account of the device
 *               (the illegal-login lock counts failures, under the address
 *               "serial"), go through the shared commands and are audited;
 *               `logout`, or 5 minutes without input, ends the login.
 *
 * transparent   the line bridged to one TCP client on ports.serial (the
 *               Moxa-style "TCP server" mode): the client answers
 *               `login:` and `password:` (an operator or administrator,
 *               within 20 s; refused and counted as an illegal login
 *               otherwise), sees "OK ..." and from then on every byte it
 *               sends goes to the line and every byte of the line to it.
 *               One client at a time (a second one is told "busy" and
 *               closed); each direction is bounded (TCD_RS232_QUEUE bytes
 *               toward the line: the client is not read while it is full;
 *               SERIAL_CLIENT_QUEUE toward the client: what does not fit is
 *               dropped and counted).  Bytes of the line with no client are
 *               dropped and counted.  The port listens only while the use
 *               is transparent and a device is set.
 */
#pragma once

#include "tcd-service.h"
#include "tcd-rs232.h"

G_BEGIN_DECLS

extern const TcdServiceClass tcd_serial_service;

#define SERIAL_LINE_MAX 256
#define SERIAL_CLIENT_QUEUE (64 * 1024)

/* the console (tcd-serial-console.c) */
typedef struct _SerialConsole SerialConsole;

SerialConsole *serial_console_new (TcdContext *ctx, TcdRs232 *port);
void           serial_console_free (SerialConsole *c);
/* bytes typed on the line */
void           serial_console_input (SerialConsole *c, const guint8 *data, gsize len);
/* a new start: no login, an empty line (the port opened, the use changed) */
void           serial_console_reset (SerialConsole *c, gboolean banner);
/* the accounts changed: a login whose account is gone or below operator ends */
void           serial_console_security_changed (SerialConsole *c);
/* {"user": the account logged in or null, "commands", "logins_failed"} */
JsonNode      *serial_console_stats (SerialConsole *c);

G_END_DECLS
