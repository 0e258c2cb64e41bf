/* thermocamd: a small fragmented-MP4 writer for H.264 (ISO/IEC 14496-12, -15)
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What Media Source Extensions play: an init segment (ftyp + moov with one
 * video track, 90 kHz, its avcC) and then one media segment (moof + mdat) per
 * access unit, with its sequence number, baseMediaDecodeTime, duration,
 * size, composition offset and sample flags (sync or not).  Pure: bytes in,
 * bytes out; no element, no thread.  The access units are AVC ("avc"
 * stream-format: length-prefixed NAL units), as the caps' avcC describes.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define TCD_FMP4_TIMESCALE 90000

typedef struct _TcdFmp4 TcdFmp4;

/* A writer for the stream of @avcc (an AVCDecoderConfigurationRecord) of
 * @width x @height; NULL (with @error) when @avcc is not one */
TcdFmp4     *tcd_fmp4_new (const guint8 *avcc, gsize avcc_len, guint width, guint height,
                           GError **error);
/* The same from caps video/x-h264,stream-format=avc (codec_data, width,
 * height; framerate, when there, gives the default duration) */
TcdFmp4     *tcd_fmp4_new_from_caps (const GstCaps *caps, GError **error);
void         tcd_fmp4_free (TcdFmp4 *f);

/* "avc1.PPCCLL" (profile, constraints, level of the avcC), for
 * MediaSource.isTypeSupported ('video/mp4; codecs="..."') */
const gchar *tcd_fmp4_codecs (TcdFmp4 *f);
guint        tcd_fmp4_get_width (TcdFmp4 *f);
guint        tcd_fmp4_get_height (TcdFmp4 *f);
/* the duration of a sample when the caller knows none (1/framerate, else
 * 1/25 s), in 90 kHz ticks */
guint32      tcd_fmp4_default_duration (TcdFmp4 *f);

/* Appends the init segment (ftyp + moov) to @out; the next media segment
 * has sequence number 1 */
void         tcd_fmp4_write_init (TcdFmp4 *f, GByteArray *out);
/* Appends one media segment (moof + mdat) of one access unit to @out:
 * @decode_time its decoding time and @duration its duration in 90 kHz
 * ticks, @cts_offset its presentation time minus its decoding time, @key
 * whether it is a sync sample (an IDR) */
void         tcd_fmp4_write_segment (TcdFmp4 *f, GByteArray *out, const guint8 *au, gsize len,
                                     guint64 decode_time, guint32 duration, gint32 cts_offset,
                                     gboolean key);
/* The sequence number the next media segment gets (from 1) */
guint32      tcd_fmp4_get_sequence (TcdFmp4 *f);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcdFmp4, tcd_fmp4_free)

G_END_DECLS
