#ifndef PLANWATCH_CZEROMQ_SHIM_H
#define PLANWATCH_CZEROMQ_SHIM_H
#include <zmq.h>
#include <errno.h>

/* errno is a macro Swift cannot always read portably; these keep it explicit. */
static inline int czmq_errno(void) { return zmq_errno(); }
static inline int czmq_eintr(void) { return EINTR; }
static inline int czmq_eagain(void) { return EAGAIN; }
static inline int czmq_eterm(void) { return ETERM; }
static inline int czmq_ehostunreach(void) { return EHOSTUNREACH; }
#endif
