import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// One instance's ear on the fleet: a dedicated PostgreSQL connection (outside the pool, which may close
/// idle connections) that `LISTEN`s on `RevocationNotice.channel` and reads the revocation feed by sequence
/// number whenever it is woken.
///
/// A notification is only a wake-up, never a fact: PostgreSQL checks no privilege on `NOTIFY`, so anyone who
/// can connect to the database can send one, with any payload. Revocations are learnt only from rows in
/// `revoked_access_tokens`, read after a high-water mark (`RevocationFeedPage`); the payload is ignored.
/// Wake-ups that arrive while a read is under way collapse into one more read (an `AsyncStream` that buffers
/// only the newest element), so a burst of notifications costs a read or two, not one each.
///
/// Each (re)connection first starts listening, then reads everything after the mark, so nothing committed
/// while it was away is missed, expired rows included (a session ended during a long outage still closes its
/// tunnels here). The periodic reconcile is the same read. A heartbeat query finds a connection that died
/// silently (a network partition sends no FIN). Reconnects back off from 100 ms to at most 1 s.
struct PostgresRevocationListener: Sendable {
    let configuration: PostgresSettings
    let logger: Logger
    /// Told when the listening connection comes up (`true`) and goes down (`false`).
    let onConnection: @Sendable (Bool) -> Void
    /// Counts the reads, for tests and for the claim above.
    let statistics: NIOLockedValueBox<RevocationFeedStatistics>

    private static let connectionIDs = NIOLockedValueBox(1_000_000)

    func run(_ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void) async {
        var backoff = Duration.milliseconds(100)
        var failing = false
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        // The high-water mark outlives each connection: a reconnect reads on from where the last one stopped.
        let mark = NIOLockedValueBox<Int64?>(nil)
        while !Task.isCancelled {
            do {
                let id = Self.connectionIDs.withLockedValue { id -> Int in
                    id += 1
                    return id
                }
                let connection = try await PostgresConnection.connect(
                    configuration: try configuration.connectionConfiguration(), id: id, logger: quiet)
                onConnection(true)
                if failing {
                    logger.notice("revocation listener reconnected; reading the revocations it missed")
                    failing = false
                }
                backoff = .milliseconds(100)
                var failure: (any Error)?
                do {
                    try await withTaskCancellationHandler {
                        try await listen(on: connection, mark: mark, logger: quiet, deliver)
                    } onCancel: {
                        Self.close(connection)
                    }
                } catch {
                    failure = error
                }
                // Waited for: postgres-nio asserts that a connection is closed before it is released.
                try? await Self.closeAndWait(connection)
                onConnection(false)
                if let failure { throw failure }
            } catch {
                if Task.isCancelled { return }
                if !failing {
                    let reason = PostgresSessionStore.map(error, operation: "listen for revocations")
                    logger.warning("revocation listener lost the store; retrying", metadata: ["error": "\(reason)"])
                    failing = true
                }
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(1))
        }
    }

    /// Closes without waiting (postgres-nio has several `close` overloads; this is the future-returning one).
    private static func close(_ connection: PostgresConnection) {
        let _: EventLoopFuture<Void> = connection.close()
    }

    /// Closes and waits until the channel is gone, also when another close is already under way.
    private static func closeAndWait(_ connection: PostgresConnection) async throws {
        close(connection)
        try await connection.closeFuture.get()
    }

    private func listen(
        on connection: PostgresConnection, mark: NIOLockedValueBox<Int64?>, logger: Logger,
        _ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void
    ) async throws {
        let timeout = configuration.options.timeout
        let reconcile = configuration.options.postgresReconcileInterval
        try await connection.listen(on: RevocationNotice.channel) { notifications in
            // Listening already: read whatever was committed while this connection was not (each page has its own
            // deadline, so a connection that dies meanwhile is noticed without the heartbeat).
            try await readNew(on: connection, mark: mark, timeout: timeout, logger: logger, deliver)
            // Newest-only buffering is the coalescing: however many wake-ups arrive during a read, one remains.
            let (wakes, waker) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in notifications { waker.yield() }
                    throw SessionStoreError.unavailable(
                        operation: "listen for revocations", reason: "the notification stream ended")
                }
                group.addTask {
                    for await _ in wakes {
                        try await readNew(on: connection, mark: mark, timeout: timeout, logger: logger, deliver)
                        // A sustained flood of notifications (anyone may send them) costs at most one read per
                        // 20 ms, and a real revocation waits at most that much longer.
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                group.addTask {
                    // The safety net behind NOTIFY (a notification lost with a connection): the same read.
                    while true {
                        try await Task.sleep(for: reconcile)
                        waker.yield()
                    }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: .seconds(5))
                        _ = try await OperationDeadline.run(operation: "listener heartbeat", timeout: timeout) {
                            deadline in
                            deadline.markStarted()
                            return try await connection.query("SELECT 1", logger: logger).collect().count
                        }
                    }
                }
                // Whichever ends first (the stream, a failed read or heartbeat) ends the connection; closing it
                // is also what ends the other children, since a notification stream need not heed cancellation.
                defer {
                    waker.finish()
                    Self.close(connection)
                    group.cancelAll()
                }
                try await group.next()
            }
        }
    }

    /// Reads the feed after the mark, page by page, delivers what it finds and moves the mark on. Without a mark
    /// (the first read of this process), it first loads every revocation still in force, up to the feed's end.
    private func readNew(
        on connection: PostgresConnection, mark: NIOLockedValueBox<Int64?>, timeout: Duration, logger: Logger,
        _ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void
    ) async throws {
        var loading: (cursor: Int64, end: Int64, now: Date)?
        if mark.withLockedValue({ $0 }) == nil {
            let end = try await OperationDeadline.run(operation: "read revocations", timeout: timeout) { deadline in
                deadline.markStarted()
                return try await RevocationFeedPage.end(connection, logger: logger)
            }
            loading = (0, end, Date())
        }
        while true {
            let start = loading?.cursor ?? mark.withLockedValue { $0 } ?? 0
            let first = loading
            let page = try await OperationDeadline.run(operation: "read revocations", timeout: timeout) {
                deadline in
                deadline.markStarted()
                guard let first else { return try await RevocationFeedPage.after(start, connection, logger: logger) }
                return try await RevocationFeedPage.after(
                    start, upTo: first.end, unexpiredAt: first.now, connection, logger: logger)
            }
            statistics.withLockedValue { statistics in
                statistics.reads += 1
                statistics.rowsRead += page.revocations.count
            }
            if !page.revocations.isEmpty { deliver(page.revocations) }
            if let first {
                if page.isFull {
                    loading?.cursor = page.mark
                    continue
                }
                mark.withLockedValue { $0 = first.end }
                loading = nil
                continue
            }
            mark.withLockedValue { $0 = page.mark }
            if !page.isFull { return }
        }
    }
}
