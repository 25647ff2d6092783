import NIOConcurrencyHelpers

/// Bounds one store operation in time, so an auth endpoint answers 503 instead of hanging while
/// PostgreSQL is down.
///
/// The bound has two parts, because they fail differently. Waiting for a pooled connection is cut at
/// `timeout`: nothing has been sent, so giving up loses nothing. Once the operation holds a connection
/// (`markStarted`), its statements are bounded by the server's `statement_timeout`, and the caller waits
/// one more `timeout` for the answer: cutting a transaction that is about to commit would report a
/// failure for a change that was made (a refresh token rotated, with its successor never delivered).
final class OperationDeadline: Sendable {
    private enum State {
        case waiting
        case running
        case finished
    }

    private let state = NIOLockedValueBox(State.waiting)

    /// Called by the operation when it holds a connection.
    func markStarted() {
        state.withLockedValue { if case .waiting = $0 { $0 = .running } }
    }

    /// Runs `body`, which calls `markStarted` once it holds a connection, and returns its result, or throws
    /// `.unavailable` when the deadline passes first (`body` is then cancelled and its result dropped).
    static func run<T: Sendable>(
        operation: String, timeout: Duration,
        _ body: @escaping @Sendable (OperationDeadline) async throws -> T
    ) async throws -> T {
        let deadline = OperationDeadline()
        let answer = NIOLockedValueBox<CheckedContinuation<Result<T, any Error>, Never>?>(nil)
        let work = NIOLockedValueBox<Task<Void, Never>?>(nil)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
            answer.withLockedValue { $0 = continuation }
            @Sendable func finish(_ result: Result<T, any Error>) -> Bool {
                let waiting = answer.withLockedValue { stored -> CheckedContinuation<Result<T, any Error>, Never>? in
                    defer { stored = nil }
                    return stored
                }
                deadline.state.withLockedValue { $0 = .finished }
                waiting?.resume(returning: result)
                return waiting != nil
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                let started = deadline.state.withLockedValue { state -> Bool in
                    if case .running = state { return true }
                    return false
                }
                if started { try? await Task.sleep(for: timeout) }
                if Task.isCancelled { return }
                let reason = started ? "no answer within \(timeout * 2)" : "no connection within \(timeout)"
                if finish(.failure(SessionStoreError.unavailable(operation: operation, reason: reason))) {
                    work.withLockedValue { $0?.cancel() }
                }
            }
            let task = Task {
                let result: Result<T, any Error>
                do {
                    result = .success(try await body(deadline))
                } catch {
                    result = .failure(error)
                }
                timer.cancel()
                _ = finish(result)
            }
            work.withLockedValue { $0 = task }
        }
        return try result.get()
    }
}
