#include <ares.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

/* prctl is variadic and so not callable from Swift: names the calling thread (15 bytes). */
static inline int warden_name_current_thread(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}
