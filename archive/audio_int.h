/* Private to archive/: the audio source backends behind audio_open(). */
#ifndef EARSHOT_AUDIO_INT_H
#define EARSHOT_AUDIO_INT_H

#include "archive/archive.h"

struct audio_src {
    struct audio_info info;
    long (*read)(struct audio_src *s, float *pcm, size_t frames, struct es_err *err);
    void (*close)(struct audio_src *s);
};

/* limit: frames to deliver at most (a WAV fact chunk's length), 0 = all. */
int audio_open_sndfile(const char *path, const char *ext, int64_t limit, struct audio_src **out,
                       struct es_err *err);
/* force_format: a libavformat demuxer name (e.g. "g722"), or NULL to probe. */
int audio_open_av(const char *path, const char *force_format, struct audio_src **out,
                  struct es_err *err);

#endif
