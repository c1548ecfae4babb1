/* The anchor of bench/ingest: a bare libopus encode loop over the same audio
 * at the same settings (20 ms frames, VOIP, the same bitrate), with the
 * samples already in memory. Nothing that archives a call can beat it; the
 * benchmark reports earshot as a ratio of it.
 * usage: opus_loop BITRATE FILE.wav...   prints "seconds=<cpu> audio=<s> bytes=<n>" */
#include <opus/opus.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: opus_loop BITRATE FILE.wav...\n");
        return 2;
    }
    int bitrate = (int)strtol(argv[1], NULL, 10);
    double cpu = 0, audio = 0;
    unsigned long long bytes = 0;
    for (int i = 2; i < argc; i++) {
        SF_INFO info = {0};
        SNDFILE *sf = sf_open(argv[i], SFM_READ, &info);
        if (!sf || info.channels != 1) {
            fprintf(stderr, "opus_loop: %s: need a mono file\n", argv[i]);
            return 1;
        }
        float *pcm = malloc(sizeof(float) * (size_t)info.frames);
        sf_count_t n = sf_readf_float(sf, pcm, info.frames);
        sf_close(sf);
        int err, frame = info.samplerate / 50;
        OpusEncoder *enc = opus_encoder_create(info.samplerate, 1, OPUS_APPLICATION_VOIP, &err);
        opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate));
        opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
        unsigned char pkt[1500];
        struct timespec a, b;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
        for (sf_count_t off = 0; off + frame <= n; off += frame) {
            opus_int32 k = opus_encode_float(enc, pcm + off, frame, pkt, sizeof pkt);
            if (k < 0)
                return 1;
            bytes += (unsigned long long)k;
        }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        cpu += (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
        audio += (double)n / info.samplerate;
        opus_encoder_destroy(enc);
        free(pcm);
    }
    printf("seconds=%.3f audio=%.1f bytes=%llu\n", cpu, audio, bytes);
    return 0;
}
