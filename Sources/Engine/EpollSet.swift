#if canImport(Glibc)
import CEpoll
import Glibc

/// One worker's `epoll` instance and what it knows of every descriptor in it, indexed by descriptor number.
///
/// HAProxy's rule (`ev_epoll.c`): `epoll_ctl` only when the wanted events really change. A libcurl socket that libcurl
/// stops watching (`CURL_POLL_REMOVE`, a pooled connection between two transfers) stays registered, marked idle
/// (`wanted` false); when the next transfer reuses it with the same events, nothing is asked of the kernel. An idle
/// socket that reports an event (the upstream closed it) is dropped then, and libcurl's close drops it for good. The
/// earlier epoll attempt lost on three `epoll_ctl` per request (docs/performance.md); this keeps it near zero.
final class EpollSet {
    enum Kind: UInt8 {
        case unused, listener, client, curl
        /// The worker's `EngineMailbox` (an `eventfd`).
        case mailbox
        /// A WebSocket tunnel's upstream socket, made by libcurl and relayed by the worker (`EngineWorker+Tunnel`).
        case tunnel
    }

    struct Entry {
        var kind = Kind.unused
        var inSet = false
        var registered: UInt32 = 0
        /// For a libcurl socket: libcurl wants events on it now (false: parked in its pool).
        var wanted = false
    }

    static let readable: UInt32 = 0x001
    static let writable: UInt32 = 0x004
    static let error: UInt32 = 0x008
    static let hangUp: UInt32 = 0x010

    let descriptor: Int32
    private(set) var entries: [Entry] = Array(repeating: Entry(), count: 1024)
    /// `epoll_ctl` calls made, for the `SIGUSR1` counters (`EngineReportSignal`).
    private(set) var controlCalls = 0

    init() throws(EngineError) {
        descriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard descriptor >= 0 else { throw EngineError.system("epoll_create1", errno) }
    }

    deinit {
        close(descriptor)
    }

    subscript(fd: Int32) -> Entry {
        get { Int(fd) < entries.count ? entries[Int(fd)] : Entry() }
        set {
            grow(to: fd)
            entries[Int(fd)] = newValue
        }
    }

    /// A descriptor number now names a new socket of `kind` (not yet in the set).
    func adopt(_ fd: Int32, as kind: Kind) {
        self[fd] = Entry(kind: kind)
    }

    /// The descriptor was closed by us: `close` already took it out of the set.
    func forget(_ fd: Int32) {
        self[fd] = Entry()
    }

    /// Registers `events` for `fd`, asking the kernel only if they differ from what is registered.
    func want(_ fd: Int32, events: UInt32) {
        grow(to: fd)
        let entry = entries[Int(fd)]
        if entry.inSet && entry.registered == events { return }
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        let operation = entry.inSet ? EPOLL_CTL_MOD : EPOLL_CTL_ADD
        controlCalls += 1
        if epoll_ctl(descriptor, operation, fd, &event) == 0 {
            entries[Int(fd)].inSet = true
            entries[Int(fd)].registered = events
        }
    }

    /// Takes `fd` out of the set (it stays open).
    func drop(_ fd: Int32) {
        guard Int(fd) < entries.count, entries[Int(fd)].inSet else { return }
        controlCalls += 1
        epoll_ctl(descriptor, EPOLL_CTL_DEL, fd, nil)
        entries[Int(fd)].inSet = false
        entries[Int(fd)].registered = 0
    }

    func setWanted(_ fd: Int32, _ wanted: Bool) {
        grow(to: fd)
        entries[Int(fd)].wanted = wanted
    }

    private func grow(to fd: Int32) {
        if Int(fd) >= entries.count {
            entries.append(contentsOf: repeatElement(Entry(), count: Int(fd) + 1024 - entries.count))
        }
    }
}
#endif
