import GatewayCore

/// A control-plane request (`/auth/*`, `/.well-known/jwks.json`) on an engine connection: its body is collected
/// (bounded by `ControlRequest.maximumBodyBytes`), then `ControlEndpoints` answers it in a task, and the answer comes
/// back to the worker through its mailbox. `id` tells that answer's connection from a later one on the same descriptor.
struct EngineControlExchange {
    let id: UInt64
    let endpoints: any ControlEndpoints
    var request: ControlRequest
    let shape: EngineConnection.RequestShape
    var cors: CorsPolicy.AnswerFields = .none
    /// The body read so far.
    var body: [UInt8] = []
    /// The endpoints are working on it: no more body is expected.
    var started = false
}
