#ifndef GATEWAY_CEPOLL_H
#define GATEWAY_CEPOLL_H
// What the engine (issue 23) needs from Linux that Swift's Glibc module leaves out: epoll, eventfd (a worker's
// mailbox), and accept4 and pthread_setname_np (GNU extensions, declared only under _GNU_SOURCE, so wrapped in
// CEpoll.c).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

int gw_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
// Names the calling thread (at most 15 bytes), as top -H and profiles show it.
int gw_set_thread_name(const char *name);
#endif
