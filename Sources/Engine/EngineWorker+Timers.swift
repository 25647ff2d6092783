#if canImport(Glibc)
import GatewayCore

/// The client timers of the worker's connections (`EngineConnection+Timers`) without a timer per connection: each
/// connection keeps its deadline in its state, the worker keeps only the earliest it was told of (`timerSweepAt`),
/// which bounds `epoll_wait`'s timeout; when it passes, one sweep over the connections performs what is due and finds
/// the next earliest. Arming costs a clock read (vDSO, no system call) and no `epoll_ctl` or `timerfd`.
extension EngineWorker {
    /// Sweeps are at least this far apart, so a busy worker whose deadlines fall close together sweeps a few times a
    /// second at most; a timeout fires at most this late.
    static let timerGranularity: UInt64 = 250_000_000

    /// A connection armed a deadline at `at`.
    func timerArmed(_ at: UInt64) {
        if at < timerSweepAt { timerSweepAt = at }
    }

    /// Between requests: `idle_timeout` runs.
    func armIdleTimer(_ client: EngineClient) {
        timerArmed(client.connection.armIdle(now: passTime, settings.timeouts))
    }

    /// A request's first bytes arrived (or its head was taken from bytes already read): `client_timeout` runs.
    func requestBytesArrived(_ client: EngineClient) {
        if case .client = client.connection.timer { return }
        guard case .awaitingHead = client.connection.state else { return }
        if let at = client.connection.requestBytesArrived(now: passTime, settings.timeouts) { timerArmed(at) }
    }

    /// Performs what is due and finds the next deadline.
    func sweepTimers(now: UInt64) {
        var earliest = UInt64.max
        for case let client? in clients where client.isOpen {
            switch client.connection.timerFired(now: now) {
            case .none: break
            case .close:
                destroy(client)
                continue
            case .abortAndAnswer(let then):
                abortTransfer(client)
                client.request?.error = "client_timeout"
                answer(client, .clientTimeout, then: then, shape: requestShape(of: client))
            case .abortAndClose:
                abortTransfer(client)
                client.request?.error = "client_timeout"
                finish(client, error: GatewayError.clientTimeout.code)
                markDirty(client)
            }
            if let deadline = client.connection.deadline, deadline < earliest { earliest = deadline }
        }
        timerSweepAt = earliest == .max ? .max : max(earliest, now + Self.timerGranularity)
    }
}
#endif
