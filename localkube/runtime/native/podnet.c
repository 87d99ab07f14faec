/*
 * podnet.so - per-pod loopback networking for localkube containers.
 *
 * Every pod shares the host network but owns one loopback address (127.N.x.y).
 * This library is listed in the container's /etc/ld.so.preload, so every
 * dynamically linked process of the container (main process, probes, exec'd
 * commands and their children) gets it without environment variables.
 *
 * It rewrites socket addresses so a process behaves as if it had its own
 * network namespace:
 *   bind():    0.0.0.0, 127.0.0.1, ::, ::1, ::ffff:0.0.0.0, ::ffff:127.0.0.1
 *              become the pod address (v4-mapped for AF_INET6 sockets), so three
 *              ZooKeeper pods can all listen on 2181/2888/3888.
 *   connect(), sendto(), sendmsg():
 *              127.0.0.1, 0.0.0.0, ::1, :: (and their v4-mapped forms) become
 *              the pod address, so "localhost" means "this pod".  An unbound
 *              socket connecting to any 127.0.0.0/8 address is first bound to
 *              the pod address (port chosen at connect time), so peers see the
 *              pod address as the source, as with real pod networking.
 *
 * The pod address is read once from POD_IP_FILE; when the file is missing or
 * invalid the library does nothing.  Sockets with IPV6_V6ONLY set are left
 * alone (a pod has no IPv6 address of its own).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define POD_IP_FILE "/run/localkube/pod-ip"

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bind_fn real_bind;
static connect_fn real_connect;
static sendto_fn real_sendto;
static sendmsg_fn real_sendmsg;
static struct in_addr pod_ip;
static int enabled;

static void load(void)
{
    char buf[64];
    ssize_t n;
    int fd;

    real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
    real_connect = (connect_fn)dlsym(RTLD_NEXT, "connect");
    real_sendto = (sendto_fn)dlsym(RTLD_NEXT, "sendto");
    real_sendmsg = (sendmsg_fn)dlsym(RTLD_NEXT, "sendmsg");

    fd = open(POD_IP_FILE, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    buf[strcspn(buf, " \t\r\n")] = '\0';
    if (inet_pton(AF_INET, buf, &pod_ip) == 1)
        enabled = 1;
}

__attribute__((constructor)) static void podnet_init(void)
{
    pthread_once(&once, load);
}

static void ensure_loaded(void)
{
    pthread_once(&once, load);
}

static int is_v4_local_alias(in_addr_t a)
{
    return a == htonl(INADDR_LOOPBACK) || a == htonl(INADDR_ANY);
}

static int is_v4_loopback_net(in_addr_t a)
{
    return (ntohl(a) >> 24) == 127;
}

/* The embedded IPv4 address of a v4-mapped IPv6 address, or 0 with *ok = 0. */
static in_addr_t mapped_v4(const struct in6_addr *a, int *ok)
{
    in_addr_t v4;

    *ok = IN6_IS_ADDR_V4MAPPED(a);
    if (!*ok)
        return 0;
    memcpy(&v4, &a->s6_addr[12], 4);
    return v4;
}

static void set_mapped(struct in6_addr *a, struct in_addr v4)
{
    memset(a, 0, sizeof(*a));
    a->s6_addr[10] = 0xff;
    a->s6_addr[11] = 0xff;
    memcpy(&a->s6_addr[12], &v4, 4);
}

static int v6only(int fd)
{
    int on = 0;
    socklen_t len = sizeof(on);

    if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len) != 0)
        return 1;
    return on;
}

/*
 * Copy addr into out, rewriting "this host" addresses to the pod address.
 * Returns 1 when rewritten, 0 when out holds an unchanged copy, -1 when the
 * address is not IPv4/IPv6 (caller passes the original through).
 */
static int rewrite(int fd, const struct sockaddr *addr, socklen_t len,
                   struct sockaddr_storage *out)
{
    if (addr == NULL || len > sizeof(*out))
        return -1;
    if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;

        memcpy(out, addr, len);
        if (!is_v4_local_alias(sin->sin_addr.s_addr))
            return 0;
        sin->sin_addr = pod_ip;
        return 1;
    }
    if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        int mapped;
        in_addr_t v4;

        memcpy(out, addr, len);
        v4 = mapped_v4(&sin6->sin6_addr, &mapped);
        if (mapped) {
            if (!is_v4_local_alias(v4))
                return 0;
        } else if (!IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) &&
                   !IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            return 0;
        } else if (v6only(fd)) {
            return 0;
        }
        set_mapped(&sin6->sin6_addr, pod_ip);
        sin6->sin6_scope_id = 0;
        return 1;
    }
    return -1;
}

/* Does this (already rewritten) destination live on the loopback network? */
static int loopback_destination(const struct sockaddr_storage *dst)
{
    if (dst->ss_family == AF_INET)
        return is_v4_loopback_net(((const struct sockaddr_in *)dst)->sin_addr.s_addr);
    if (dst->ss_family == AF_INET6) {
        int mapped;
        in_addr_t v4 = mapped_v4(&((const struct sockaddr_in6 *)dst)->sin6_addr, &mapped);

        return mapped && is_v4_loopback_net(v4);
    }
    return 0;
}

/* Bind an unbound TCP/UDP socket to the pod address before it connects. */
static void bind_source(int fd, int family)
{
    struct sockaddr_storage cur;
    socklen_t len = sizeof(cur);
    int type = 0, one = 1;
    socklen_t tlen = sizeof(type);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0)
        return;
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return;
    if (getsockname(fd, (struct sockaddr *)&cur, &len) != 0 || cur.ss_family != family)
        return;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&cur;
        struct sockaddr_in src;

        if (sin->sin_port != 0 || sin->sin_addr.s_addr != htonl(INADDR_ANY))
            return;
        memset(&src, 0, sizeof(src));
        src.sin_family = AF_INET;
        src.sin_addr = pod_ip;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        real_bind(fd, (struct sockaddr *)&src, sizeof(src));
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cur;
        struct sockaddr_in6 src;

        if (sin6->sin6_port != 0 || !IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) || v6only(fd))
            return;
        memset(&src, 0, sizeof(src));
        src.sin6_family = AF_INET6;
        set_mapped(&src.sin6_addr, pod_ip);
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        real_bind(fd, (struct sockaddr *)&src, sizeof(src));
    }
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sockaddr_storage a;

    ensure_loaded();
    if (enabled && rewrite(fd, addr, len, &a) == 1)
        return real_bind(fd, (struct sockaddr *)&a, len);
    return real_bind(fd, addr, len);
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    struct sockaddr_storage a;
    int saved, r;

    ensure_loaded();
    if (!enabled || rewrite(fd, addr, len, &a) < 0)
        return real_connect(fd, addr, len);
    if (loopback_destination(&a)) {
        saved = errno;
        bind_source(fd, a.ss_family);
        errno = saved;
    }
    r = real_connect(fd, (struct sockaddr *)&a, len);
    return r;
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags,
               const struct sockaddr *addr, socklen_t len)
{
    struct sockaddr_storage a;

    ensure_loaded();
    if (enabled && addr != NULL && rewrite(fd, addr, len, &a) == 1)
        return real_sendto(fd, buf, n, flags, (struct sockaddr *)&a, len);
    return real_sendto(fd, buf, n, flags, addr, len);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct sockaddr_storage a;
    struct msghdr copy;

    ensure_loaded();
    if (enabled && msg != NULL && msg->msg_name != NULL &&
        rewrite(fd, msg->msg_name, msg->msg_namelen, &a) == 1) {
        copy = *msg;
        copy.msg_name = &a;
        return real_sendmsg(fd, &copy, flags);
    }
    return real_sendmsg(fd, msg, flags);
}
