import NIOConcurrencyHelpers

/// The current `GatewayRuntime`, swapped whole on reload. Readers take a reference once per request
/// and keep using it, so a request never sees half of an old and half of a new configuration.
public final class RuntimeHolder: Sendable {
    private let box: NIOLockedValueBox<GatewayRuntime>

    public init(_ runtime: GatewayRuntime) {
        self.box = NIOLockedValueBox(runtime)
    }

    public var current: GatewayRuntime { box.withLockedValue { $0 } }

    public func replace(with runtime: GatewayRuntime) {
        box.withLockedValue { $0 = runtime }
    }
}
