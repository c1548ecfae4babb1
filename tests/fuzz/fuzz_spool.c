/* A spool file as a crash or a bad disk may leave it: the reader gives whole
 * records whose check matches, in order, never reads past the file, and ends
 * with "nothing more yet" or "corrupt". Input: the file's bytes. */
#include "recorder/record_int.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("spool", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct spool_reader *r;
    struct es_err err;
    if (spool_reader_open(path, 0, &r, &err) == 0) {
        uint16_t type;
        const void *p;
        size_t n;
        uint64_t before = 0;
        int rc;
        while ((rc = spool_next(r, &type, &p, &n)) == 0) {
            uint64_t off = spool_reader_offset(r);
            if (off <= before || off > size || off - before != n + 10)
                __builtin_trap(); /* a record must move the reader by itself, inside the file */
            before = off;
        }
        if (rc != ES_EAGAIN && rc != ES_ECORRUPT && rc != ES_ENOMEM)
            __builtin_trap();
        spool_reader_close(r);
    }
    close(fd);
    return 0;
}
