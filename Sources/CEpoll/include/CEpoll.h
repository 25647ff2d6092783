#ifndef GATEWAY_CEPOLL_H
#define GATEWAY_CEPOLL_H
// What the engine (issue 23) needs from Linux that Swift's Glibc module leaves out: epoll, and accept4 (a GNU
// extension, declared only under _GNU_SOURCE, so wrapped in CEpoll.c).
#include <sys/epoll.h>
#include <sys/socket.h>

int gw_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
#endif
