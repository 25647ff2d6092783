import NIOConcurrencyHelpers
import Synchronization

/// The current `GatewayRuntime`, swapped whole on reload. Readers take a reference once per request
/// and keep using it, so a request never sees half of an old and half of a new configuration.
public final class RuntimeHolder: Sendable {
    private let box: NIOLockedValueBox<GatewayRuntime>
    private let replacements = Atomic<Int>(0)

    public init(_ runtime: GatewayRuntime) {
        self.box = NIOLockedValueBox(runtime)
    }

    public var current: GatewayRuntime { box.withLockedValue { $0 } }

    /// Moves on every `replace`: an engine worker compares it per request (one atomic load) and takes the lock
    /// only when a reload happened.
    public var generation: Int { replacements.load(ordering: .acquiring) }

    public func replace(with runtime: GatewayRuntime) {
        box.withLockedValue { $0 = runtime }
        replacements.add(1, ordering: .releasing)
    }
}
