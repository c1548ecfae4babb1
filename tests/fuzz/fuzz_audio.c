/* Audio decoding: WAV and its codecs, raw Asterisk formats and whatever
 * libavformat probes. The bytes go to a file because the decoders read paths;
 * the file name's extension is chosen by the first byte so raw formats get
 * fuzzed too. */
#include "archive/archive.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ext[] = {"wav",  "ulaw", "alaw",  "gsm",  "sln", "sln16",
                                      "g722", "mp3",  "wav49", "flac", "ogg", "bin"};
    if (size < 1 || size > 1 << 20)
        return 0;
    char path[128];
    snprintf(path, sizeof path, "/tmp/earshot-fuzz-audio-%d.%s", (int)getpid(),
             ext[data[0] % (sizeof ext / sizeof ext[0])]);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    struct audio_src *s;
    struct es_err err;
    if (audio_open(path, &s, &err) == 0) {
        float *pcm = malloc(sizeof(float) * 2 * 1024);
        long total = 0, n;
        while (pcm && (n = audio_read(s, pcm, 1024, &err)) > 0 && total < 48000 * 60)
            total += n;
        free(pcm);
        audio_close(s);
    }
    unlink(path);
    return 0;
}
