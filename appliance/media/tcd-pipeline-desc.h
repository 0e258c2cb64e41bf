/* thermocamd: the core pipeline's launch description, from its templates
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* --source KIND[:ARG]: sim, sim:WIDTHxHEIGHT (16-4096), v4l2:DEVICE, file:PATH */
gboolean tcd_pipeline_source_valid (const gchar *kind, const gchar *arg);
/* pipelines/core.pipeline with source-KIND.pipeline in it, at @rate fps */
gchar   *tcd_pipeline_describe (const gchar *dir, const gchar *kind, const gchar *arg,
                                gint rate, GError **error);

G_END_DECLS
