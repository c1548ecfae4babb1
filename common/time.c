#include "common/common.h"

#include <ctype.h>
#include <stdbool.h>
#include <time.h>

int64_t es_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t es_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, computed in 400-year
 * eras so it needs no tables and no time-zone state. */
int64_t es_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void es_tm_from_ms(int64_t ms, struct es_tm *tm)
{
    int64_t days = floordiv(ms, 86400000);
    int64_t rem = ms - days * 86400000;
    civil_from_days(days, &tm->year, &tm->mon, &tm->day);
    tm->hour = (int)(rem / 3600000);
    tm->min = (int)(rem / 60000 % 60);
    tm->sec = (int)(rem / 1000 % 60);
    tm->msec = (int)(rem % 1000);
}

int64_t es_ms_from_tm(const struct es_tm *tm)
{
    return es_days_from_civil(tm->year, tm->mon, tm->day) * 86400000 + (int64_t)tm->hour * 3600000 +
           (int64_t)tm->min * 60000 + (int64_t)tm->sec * 1000 + tm->msec;
}

void es_time_iso(int64_t ms, char *out)
{
    struct es_tm tm;
    es_tm_from_ms(ms, &tm);
    snprintf(out, ES_ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.year, tm.mon, tm.day,
             tm.hour, tm.min, tm.sec, tm.msec);
}

/* Reads exactly n digits at *i. */
static bool digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++) {
        if (*i >= len || !isdigit((unsigned char)s[*i]))
            return false;
        v = v * 10 + (s[(*i)++] - '0');
    }
    *out = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i < len && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

static int parse_epoch(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 15)
        return ES_EFORMAT;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return ES_EFORMAT;
        v = v * 10 + (s[i] - '0');
    }
    *out = v > 100000000000LL ? v : v * 1000;
    return 0;
}

int es_time_parse(const char *s, size_t len, int64_t *out_ms)
{
    size_t i = 0;
    struct es_tm tm = {0};
    if (len > 4 && len != 10 && isdigit((unsigned char)s[4]))
        return parse_epoch(s, len, out_ms);
    if (!digits(s, len, &i, 4, &tm.year) || !expect(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &tm.mon) || !expect(s, len, &i, '-') ||
        !digits(s, len, &i, 2, &tm.day))
        return parse_epoch(s, len, out_ms);
    if (tm.mon < 1 || tm.mon > 12 || tm.day < 1 || tm.day > days_in_month(tm.year, tm.mon))
        return ES_EFORMAT;
    int off_min = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return ES_EFORMAT;
        i++;
        if (!digits(s, len, &i, 2, &tm.hour) || !expect(s, len, &i, ':') ||
            !digits(s, len, &i, 2, &tm.min))
            return ES_EFORMAT;
        if (expect(s, len, &i, ':') && !digits(s, len, &i, 2, &tm.sec))
            return ES_EFORMAT;
        if (expect(s, len, &i, '.') || expect(s, len, &i, ',')) {
            int scale = 100, any = 0;
            while (i < len && isdigit((unsigned char)s[i])) {
                tm.msec += (s[i++] - '0') * scale;
                scale /= 10;
                any = 1;
            }
            if (!any)
                return ES_EFORMAT;
        }
        if (tm.hour > 23 || tm.min > 59 || tm.sec > 60)
            return ES_EFORMAT;
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
            if (!digits(s, len, &i, 2, &oh))
                return ES_EFORMAT;
            expect(s, len, &i, ':');
            if (i < len && !digits(s, len, &i, 2, &om))
                return ES_EFORMAT;
            if (oh > 23 || om > 59)
                return ES_EFORMAT;
            off_min = sign * (oh * 60 + om);
        }
    }
    if (i != len)
        return ES_EFORMAT;
    *out_ms = es_ms_from_tm(&tm) - (int64_t)off_min * 60000;
    return 0;
}
