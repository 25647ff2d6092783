import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// One instance's ear on the fleet: a dedicated PostgreSQL connection (outside the pool, which may close
/// idle connections) that `LISTEN`s on `RevocationNotice.channel` and hands every revocation to the
/// gateway's in-memory list.
///
/// Each (re)connection first starts listening, then reloads every unexpired revocation, so nothing
/// committed while it was away is missed. A heartbeat query finds a connection that died silently (a
/// network partition sends no FIN). Reconnects back off from 100 ms to at most 1 s, so a notification sent
/// right after an outage is caught within about a second of the database being back.
struct PostgresRevocationListener: Sendable {
    let configuration: PostgresSettings
    let logger: Logger
    /// Told when the listening connection comes up (`true`) and goes down (`false`).
    let onConnection: @Sendable (Bool) -> Void

    private static let connectionIDs = NIOLockedValueBox(1_000_000)

    func run(_ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void) async {
        var backoff = Duration.milliseconds(100)
        var failing = false
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
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
                    logger.notice("revocation listener reconnected; reloading revocations")
                    failing = false
                }
                backoff = .milliseconds(100)
                var failure: (any Error)?
                do {
                    try await withTaskCancellationHandler {
                        try await listen(on: connection, logger: quiet, deliver)
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
        on connection: PostgresConnection, logger: Logger,
        _ deliver: @escaping @Sendable ([RevokedAccessToken]) -> Void
    ) async throws {
        let timeout = configuration.options.timeout
        try await connection.listen(on: RevocationNotice.channel) { notifications in
            deliver(try await PostgresSessionStore.unexpiredRevocations(connection, now: Date(), logger: logger))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await notification in notifications {
                        switch RevocationNotice(payload: notification.payload) {
                        case .revoked(let revocation):
                            deliver([revocation])
                        case .reloadAll:
                            deliver(
                                try await PostgresSessionStore.unexpiredRevocations(
                                    connection, now: Date(), logger: logger))
                        case nil:
                            continue
                        }
                    }
                    throw SessionStoreError.unavailable(
                        operation: "listen for revocations", reason: "the notification stream ended")
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
                // Whichever ends first (the stream, or a failed heartbeat) ends the connection; closing it is
                // also what ends the other child, since a notification stream need not heed cancellation.
                defer {
                    Self.close(connection)
                    group.cancelAll()
                }
                try await group.next()
            }
        }
    }
}
