/* Prometheus text exposition (version 0.0.4): a family's HELP and TYPE lines,
 * then its samples. Label values are escaped as the format asks. */
#include "common/common.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void es_prom_family(struct es_buf *b, const char *name, const char *type, const char *help)
{
    es_buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label_value(struct es_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            es_buf_appendf(b, "\\%c", *v);
        else if (*v == '\n')
            es_buf_append(b, "\\n", 2);
        else
            es_buf_append(b, v, 1);
    }
}

/* labels: "key", "value", ..., NULL */
static void sample_start(struct es_buf *b, const char *name, const char *const *labels)
{
    es_buf_append(b, name, strlen(name));
    if (labels && labels[0]) {
        es_buf_append(b, "{", 1);
        for (int i = 0; labels[i] && labels[i + 1]; i += 2) {
            es_buf_appendf(b, "%s%s=\"", i ? "," : "", labels[i]);
            label_value(b, labels[i + 1]);
            es_buf_append(b, "\"", 1);
        }
        es_buf_append(b, "}", 1);
    }
}

void es_prom_u64(struct es_buf *b, const char *name, const char *const *labels, uint64_t v)
{
    sample_start(b, name, labels);
    es_buf_appendf(b, " %" PRIu64 "\n", v);
}

void es_prom_f64(struct es_buf *b, const char *name, const char *const *labels, double v)
{
    sample_start(b, name, labels);
    if (isnan(v))
        es_buf_appendf(b, " NaN\n");
    else
        es_buf_appendf(b, " %.9g\n", v);
}
