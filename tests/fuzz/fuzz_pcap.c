/* Whole capture files through libpcap and the recorder pipeline (SIP, SDP,
 * dialogs, RTP, DTMF, unknown calls, catalog rows), statistics only. */
#include "recorder/record_int.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static struct ingest_session *sess;
static struct catalog *cat;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[64], path[128];
    if (!sess) {
        if (sodium_init() < 0)
            abort();
        snprintf(dir, sizeof dir, "/tmp/earshot-fuzz-pcap-%d", (int)getpid());
        struct ingest_opts o = {.data_dir = dir,
                                .bitrate_mono = 16000,
                                .bitrate_stereo = 24000,
                                .complexity = -1,
                                .leg_suffix = {"-in", "-out"}};
        struct es_err e;
        es_log_set_level(ES_LOG_QUIET);
        if (ingest_session_open(&o, &sess, &e) || catalog_open(dir, &cat, &e))
            abort();
        snprintf(path, sizeof path, "%s/in.pcap", dir);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct pcapin *in;
    struct recorder *r;
    struct es_err e;
    struct recorder_opts ro = {
        .no_audio = true, .max_calls = 64, .source_ref = "fuzz", .workers = -1};
    if (pcapin_open_file(path, &in, &e))
        return 0;
    if (recorder_new(&ro, sess, cat, &r, &e) == 0) {
        struct pcapin_packet pk;
        int64_t last = 0;
        for (int n = 0; n < 100000 && pcapin_next(in, &pk, &e) == 1; n++) {
            if (pk.len)
                recorder_packet(r, pk.linktype, pk.data, pk.len, pk.ts_us);
            last = pk.ts_us;
        }
        recorder_finish(r, last);
        recorder_free(r);
    }
    pcapin_close(in);
    return 0;
}
