import Synchronization

/// The export task, set once at start and taken once at stop.
final class LockedTask: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)

    func set(_ value: Task<Void, Never>) {
        task.withLock { $0 = value }
    }

    func take() -> Task<Void, Never>? {
        task.withLock { current in
            defer { current = nil }
            return current
        }
    }
}
