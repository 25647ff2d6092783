import GatewayCore

/// The planner's verdict on one request head: forward it, or answer it here. Either way the access log needs the
/// request's id, path and route, decided once.
enum RequestDecision {
    case forward(ForwardPlan)
    case answer(GatewayError, requestID: String, path: Substring, route: String?)
}
